import { describe, expect, it } from 'vitest';
import { InputError } from '../common/index.js';
import type { LoadedPack } from './load.js';
import { PackFile } from './pack-file.js';
import { PackCatalog, resolvePackSet } from './resolve.js';

// Resolution only reads pack.yaml, so these packs are pack.yaml contents alone.
function pack(name: string, layer: 'base' | 'domain' | 'intent', version: string, ext: Record<string, string> = {}): LoadedPack {
  const meta = PackFile.parse({
    name,
    layer,
    version,
    owner: 'o@example.com',
    description: 'd',
    extends: ext,
    ...(layer === 'intent'
      ? { agent: { name, description: 'd', dagNode: '1', modelTier: 'SimpleLLM', tools: [{ name: 't', tier: 'read' }] } }
      : {}),
  });
  return { meta, key: `${name}@${version}`, root: '.', dir: name, files: [], policies: [], tests: [], fixtures: [] };
}

const keys = (packs: LoadedPack[]) => packs.map((p) => p.key);
function resolveError(catalog: PackCatalog, root: LoadedPack): string {
  try {
    resolvePackSet(catalog, root);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected resolution to fail');
}

describe('resolvePackSet', () => {
  it('picks the highest version satisfying every range and orders base, domains, intent', () => {
    const root = pack('agent', 'intent', '1.0.0', { shop: '^1.0.0', base: '>=1.1.0 <2' });
    const catalog = new PackCatalog([
      pack('base', 'base', '1.0.0'),
      pack('base', 'base', '1.2.0'),
      pack('base', 'base', '2.0.0'),
      pack('shop', 'domain', '1.3.0', { base: '^1.0.0' }),
      pack('shop', 'domain', '2.0.0', { base: '^2.0.0' }),
      root,
    ]);
    expect(keys(resolvePackSet(catalog, root))).toEqual(['base@1.2.0', 'shop@1.3.0', 'agent@1.0.0']);
  });

  it('includes a diamond dependency once', () => {
    const root = pack('agent', 'intent', '1.0.0', { a: '^1.0.0', b: '^1.0.0' });
    const catalog = new PackCatalog([
      pack('base', 'base', '1.0.0'),
      pack('a', 'domain', '1.0.0', { base: '^1.0.0' }),
      pack('b', 'domain', '1.0.0', { base: '1.x' }),
      root,
    ]);
    expect(keys(resolvePackSet(catalog, root))).toEqual(['base@1.0.0', 'a@1.0.0', 'b@1.0.0', 'agent@1.0.0']);
  });

  it('narrows a choice when a later requirement excludes the first pick', () => {
    const root = pack('agent', 'intent', '1.0.0', { base: '*', shop: '^1.0.0' });
    const catalog = new PackCatalog([
      pack('base', 'base', '1.0.0'),
      pack('base', 'base', '1.5.0'),
      pack('shop', 'domain', '1.0.0', { base: '~1.0.0' }),
      root,
    ]);
    expect(keys(resolvePackSet(catalog, root))).toEqual(['base@1.0.0', 'shop@1.0.0', 'agent@1.0.0']);
  });

  it('names the requirers of a conflict', () => {
    const root = pack('agent', 'intent', '1.0.0', { a: '^1.0.0', b: '^1.0.0' });
    const catalog = new PackCatalog([
      pack('base', 'base', '1.0.0'),
      pack('base', 'base', '2.0.0'),
      pack('a', 'domain', '1.0.0', { base: '^1.0.0' }),
      pack('b', 'domain', '1.0.0', { base: '^2.0.0' }),
      root,
    ]);
    expect(resolveError(catalog, root)).toMatch(
      /version conflict for pack 'base': no version satisfies \^1\.0\.0 \(required by a@1\.0\.0\) and \^2\.0\.0 \(required by b@1\.0\.0\); available: 2\.0\.0, 1\.0\.0/,
    );
  });

  it('names the chain of a cycle and of a missing pack', () => {
    const root = pack('agent', 'intent', '1.0.0', { a: '^1.0.0' });
    const cyclic = new PackCatalog([pack('a', 'domain', '1.0.0', { b: '^1.0.0' }), pack('b', 'domain', '1.0.0', { a: '^1.0.0' }), root]);
    expect(resolveError(cyclic, root)).toMatch(/extends cycle: agent@1\.0\.0 -> a@1\.0\.0 -> b@1\.0\.0 -> a \^1\.0\.0/);
    const missing = new PackCatalog([pack('a', 'domain', '1.0.0', { zeta: '^3.0.0' }), root]);
    expect(resolveError(missing, root)).toMatch(/unknown pack 'zeta' in extends \(chain: agent@1\.0\.0 -> a@1\.0\.0 -> zeta \^3\.0\.0\)/);
  });

  it('refuses a lower layer extending a higher one', () => {
    const root = pack('shop', 'domain', '1.0.0', { agent: '^1.0.0' });
    const catalog = new PackCatalog([pack('agent', 'intent', '1.0.0', { base: '^1.0.0' }), pack('base', 'base', '1.0.0'), root]);
    expect(resolveError(catalog, root)).toMatch(/a domain pack cannot extend the intent pack agent/);
  });
});
