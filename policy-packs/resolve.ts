import semver from 'semver';
import { InputError } from '../common/index.js';
import type { LoadedPack } from './load.js';
import type { Layer } from './pack-file.js';

export const LAYER_RANK: Record<Layer, number> = { base: 0, domain: 1, intent: 2 };

/** All loaded packs by name, highest version first. */
export class PackCatalog {
  private readonly byName = new Map<string, LoadedPack[]>();

  constructor(readonly packs: LoadedPack[]) {
    for (const p of packs) {
      const list = this.byName.get(p.meta.name) ?? [];
      list.push(p);
      this.byName.set(p.meta.name, list);
    }
    for (const list of this.byName.values()) list.sort((a, b) => semver.rcompare(a.meta.version, b.meta.version));
  }

  versions(name: string): LoadedPack[] {
    return this.byName.get(name) ?? [];
  }

  /** The newest version of each pack name. */
  latest(): LoadedPack[] {
    return [...this.byName.values()].map((l) => l[0]!);
  }

  /** The newest intent pack declaring `agent`. */
  agentPack(agent: string): LoadedPack | undefined {
    return this.latest().find((p) => p.meta.agent?.name === agent);
  }

  agents(): string[] {
    return this.latest()
      .flatMap((p) => (p.meta.agent ? [p.meta.agent.name] : []))
      .sort();
  }
}

/** Composition order: base, then domain packs, then the intent pack; by name within a layer. */
export function layerOrder(a: LoadedPack, b: LoadedPack): number {
  return LAYER_RANK[a.meta.layer] - LAYER_RANK[b.meta.layer] || a.meta.name.localeCompare(b.meta.name);
}

/**
 * Resolves `root` and everything it extends to exact versions: for each pack name, the highest
 * version satisfying every range that names it in the graph. Missing packs and cycles are errors
 * naming the chain; no satisfying version is a conflict naming the requirers. A diamond is
 * included once.
 */
export function resolvePackSet(catalog: PackCatalog, root: LoadedPack): LoadedPack[] {
  let choice = new Map<string, LoadedPack>();
  for (let round = 0; round < 32; round++) {
    const requirements = new Map<string, Array<{ range: string; by: string }>>();
    const reached = new Map<string, LoadedPack>();
    const visit = (pack: LoadedPack, chain: LoadedPack[]) => {
      for (const [dep, range] of Object.entries(pack.meta.extends)) {
        const path = [...chain.map((p) => p.key), `${dep} ${range}`];
        if (chain.some((p) => p.meta.name === dep)) {
          throw new InputError(`extends cycle: ${path.join(' -> ')}`, { file: `${pack.key} pack.yaml`, field: `extends.${dep}` });
        }
        const versions = catalog.versions(dep);
        if (versions.length === 0) {
          throw new InputError(`unknown pack '${dep}' in extends (chain: ${path.join(' -> ')})`, {
            file: `${pack.key} pack.yaml`,
            field: `extends.${dep}`,
          });
        }
        const reqs = requirements.get(dep) ?? [];
        reqs.push({ range, by: pack.key });
        requirements.set(dep, reqs);
        const chosen = choice.get(dep) ?? versions.find((v) => semver.satisfies(v.meta.version, range)) ?? versions[0]!;
        if (LAYER_RANK[chosen.meta.layer] > LAYER_RANK[pack.meta.layer] || chosen.meta.layer === 'intent') {
          throw new InputError(`a ${pack.meta.layer} pack cannot extend the ${chosen.meta.layer} pack ${dep}`, {
            file: `${pack.key} pack.yaml`,
            field: `extends.${dep}`,
          });
        }
        reached.set(dep, chosen);
        visit(chosen, [...chain, chosen]);
      }
    };
    visit(root, [root]);
    let changed = reached.size !== choice.size;
    const next = new Map<string, LoadedPack>();
    for (const [dep, reqs] of requirements) {
      const best = catalog.versions(dep).find((v) => reqs.every((r) => semver.satisfies(v.meta.version, r.range)));
      if (!best) {
        const uniq = [...new Map(reqs.map((r) => [`${r.by}:${r.range}`, r])).values()];
        throw new InputError(
          `version conflict for pack '${dep}': no version satisfies ${uniq.map((r) => `${r.range} (required by ${r.by})`).join(' and ')}; available: ${catalog
            .versions(dep)
            .map((v) => v.meta.version)
            .join(', ')}`,
          { file: `${root.key} pack.yaml`, field: 'extends' },
        );
      }
      if (choice.get(dep) !== best) changed = true;
      next.set(dep, best);
    }
    choice = next;
    if (!changed) return [root, ...choice.values()].sort(layerOrder);
  }
  throw new InputError(`version resolution for ${root.key} does not settle`, { file: `${root.key} pack.yaml`, field: 'extends' });
}
