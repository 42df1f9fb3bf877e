import { InputError } from '../common/index.js';
import type { cedar } from './cedar.js';
import { digestJson } from '../signing/index.js';
import { checkToolOwners, composeSet, type ComposedSet } from './compose.js';
import { PolicyEngine } from './engine.js';
import { FixtureStore } from './fixtures.js';
import { loadPacks, type LoadedPack } from './load.js';
import type { ManifestTool } from './manifest-schema.js';
import { PackCatalog, resolvePackSet } from './resolve.js';
import { PolicyValidator } from './strict-validation.js';

/** A composed set ready for decisions: its engine and the fixtures of its packs. */
export class SetUnderTest {
  private built: PolicyEngine | undefined;

  constructor(
    readonly root: LoadedPack,
    readonly set: ComposedSet,
    readonly fixtures: FixtureStore,
  ) {}

  /**
   * Cedar's pre-parsed policy set, made on first use: sets composed only for their tools (base's
   * stand-ins, the catalogs) or for `packs validate` never decide anything.
   */
  get engine(): PolicyEngine {
    if (!this.built) {
      const policies: Record<string, string> = {};
      for (const [id, p] of this.set.policies) policies[id] = p.text;
      const source = { policies, schemaText: this.set.schemaText, tools: this.set.tools };
      this.built = new PolicyEngine(`test:${this.root.key}:${digestJson(source)}`, { ...source, schemaJson: this.set.schemaJson });
    }
    return this.built;
  }
}

/** A loaded packs folder; composed sets are built once and cached by root pack. */
export class Workspace {
  readonly catalog: PackCatalog;
  private readonly sets = new Map<string, SetUnderTest>();
  private known: Map<string, ManifestTool> | undefined;
  private readonly validator: PolicyValidator;

  constructor(
    readonly dir: string,
    packs: LoadedPack[] = loadPacks(dir),
  ) {
    checkToolOwners(packs);
    this.catalog = new PackCatalog(packs);
    this.validator = new PolicyValidator(packs.flatMap((p) => p.policies));
  }

  /** `root` with everything it extends, composed (base-only sets add base's fixture schema). */
  setFor(root: LoadedPack): SetUnderTest {
    const cached = this.sets.get(root.key);
    if (cached) return cached;
    const packs = resolvePackSet(this.catalog, root);
    // Base-only sets add the fixture schema, against which lower layers' policies never validate:
    // they are validated on their own; every other set shares the catalog-wide validator.
    const set = composeSet(packs, root.meta.layer === 'base' ? { withFixtureSchema: true } : { validator: this.validator });
    const entry = new SetUnderTest(root, set, FixtureStore.fromFiles(packs.flatMap((p) => p.fixtures)));
    this.sets.set(root.key, entry);
    return entry;
  }

  /** Composes every pack's set (and so every agent's): the compile-time checks without tests. */
  composeAll(): SetUnderTest[] {
    return this.catalog.packs.map((p) => this.setFor(p));
  }

  agentSet(agent: string): SetUnderTest {
    const pack = this.catalog.agentPack(agent);
    if (!pack)
      throw new InputError(`unknown agent '${agent}' (agents in ${this.dir}: ${this.catalog.agents().join(', ') || 'none'})`, {
        field: '--agent',
      });
    return this.setFor(pack);
  }

  /** Every tool any base or domain pack defines (catalog tools and base stand-ins), by name. */
  knownTools(): Map<string, ManifestTool> {
    this.known ??= new Map(this.knownSets().flatMap((s) => s.set.tools.map((t) => [t.name, t] as const)));
    return this.known;
  }

  /** The schemas those tools are declared in (base's with its fixture schema, the domains'). */
  knownSchemas(): Array<cedar.SchemaJson<string>> {
    return this.knownSets().map((s) => s.set.schemaJson);
  }

  private knownSets(): SetUnderTest[] {
    return this.catalog
      .latest()
      .filter((p) => p.meta.layer !== 'intent')
      .map((p) => this.setFor(p));
  }
}
