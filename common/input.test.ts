import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError, offsetToLineColumn, parseJson, parseYaml } from './index.js';

const Pack = z.object({
  name: z.string(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  tools: z.array(z.object({ tier: z.enum(['read', 'write-low']) })),
});

describe('location-aware input', () => {
  it('names file, line and field for a schema violation in YAML', () => {
    const text = 'name: base\nversion: 1.0.0\ntools:\n  - tier: read\n  - tier: write-hi\n';
    try {
      parseYaml(text, 'pack.yaml', Pack);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      const e = err as InputError;
      expect(e.exitCode).toBe(2);
      expect(e.location).toMatchObject({ file: 'pack.yaml', line: 5, field: 'tools[1].tier' });
      expect(e.message).toMatch(/^pack\.yaml:5 \(tools\[1\]\.tier\): /);
    }
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(() => parseYaml('a: [1, 2\nb: 3\n', 'x.yaml', z.unknown())).toThrow(/x\.yaml:\d+:\d+: invalid YAML/);
  });

  it('rejects duplicate keys, which YAML parsers otherwise resolve silently', () => {
    expect(() => parseYaml('name: a\nname: b\n', 'dup.yaml', z.unknown())).toThrow(/dup\.yaml:2/);
  });

  it('reports JSON syntax errors with line and column', () => {
    expect(() => parseJson('{\n  "a": 1,\n  "b": }', 'x.json')).toThrow(/x\.json:3:\d+: invalid JSON/);
  });

  it('converts offsets to one-based line and column', () => {
    expect(offsetToLineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
