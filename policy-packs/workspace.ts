import { realpathSync } from 'node:fs';
import { join } from 'node:path';
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
      this.built = new PolicyEngine(`test:${this.root.key}:${digestJson(source)}`, {
        ...source,
        schemaJson: this.set.schemaJson,
        origins: Object.fromEntries(this.set.policies),
      });
    }
    return this.built;
  }
}

/**
 * Packs folders of one's own, searched in order and then the shipped packs (`shipped`), which
 * they extend without copying. Own packs are what `packs test` and `compile --all` work on.
 */
export interface PackSearchPath {
  own: string[];
  shipped?: string;
}

/**
 * Loads a search path. A pack of one's own may not take a shipped pack's name: base is extended,
 * never overridden, and a shipped domain or intent pack is extended by a new pack, not redeclared.
 */
function loadSearchPath(path: PackSearchPath): { packs: LoadedPack[]; own: LoadedPack[] } {
  const shipped = path.shipped ? loadPacks(path.shipped) : [];
  const shippedNames = new Map(shipped.map((p) => [p.meta.name, p]));
  const own: LoadedPack[] = [];
  for (const dir of path.own) {
    for (const p of loadPacks(dir)) {
      const file = join(p.dir, 'pack.yaml');
      const clash = shippedNames.get(p.meta.name);
      if (clash)
        throw new InputError(
          `pack '${p.meta.name}' redeclares the shipped pack ${clash.key}: ${p.meta.name === 'base' ? 'base is extended, never overridden' : 'shipped packs are extended, not redeclared'}; give your pack another name and list ${p.meta.name} under extends`,
          { file, field: 'name' },
        );
      const twice = own.find((o) => o.key === p.key);
      if (twice) throw new InputError(`pack ${p.key} appears twice: ${twice.dir} and ${p.dir}`, { file, field: 'name' });
      own.push(p);
    }
  }
  return { packs: [...own, ...shipped], own };
}

const sameFolder = (a: string, b: string) => realpathSync(a) === realpathSync(b);

/** A loaded packs folder (or search path); composed sets are built once and cached by root pack. */
export class Workspace {
  readonly catalog: PackCatalog;
  /** The packs of the folders given (without the shipped packs they extend): tested, and compiled by `--all`. */
  readonly own: LoadedPack[];
  private readonly sets = new Map<string, SetUnderTest>();
  private known: Map<string, ManifestTool> | undefined;
  private readonly validator: PolicyValidator;

  constructor(
    readonly dir: string,
    packs: LoadedPack[] = loadPacks(dir),
    own: LoadedPack[] = packs,
  ) {
    checkToolOwners(packs);
    this.catalog = new PackCatalog(packs);
    this.own = own;
    this.validator = new PolicyValidator(packs.flatMap((p) => p.policies));
  }

  /** A workspace over a search path; naming the shipped folder itself as one's own is the shipped packs alone. */
  static search(path: PackSearchPath): Workspace {
    const own = path.shipped ? path.own.filter((d) => !sameFolder(d, path.shipped!)) : path.own;
    if (own.length === 0) {
      if (!path.shipped) throw new InputError('no packs folder given', { field: '--packs' });
      return new Workspace(path.shipped);
    }
    const loaded = loadSearchPath({ ...path, own });
    return new Workspace([...own, ...(path.shipped ? [path.shipped] : [])].join(', '), loaded.packs, loaded.own);
  }

  /** The agents of the workspace's own intent packs. */
  ownAgents(): string[] {
    return this.own.flatMap((p) => (p.meta.agent ? [p.meta.agent.name] : [])).sort();
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

  /** Composes every own pack's set (and so every own agent's): the compile-time checks without tests. */
  composeAll(): SetUnderTest[] {
    return this.own.map((p) => this.setFor(p));
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
