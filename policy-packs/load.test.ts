import { describe, expect, it } from 'vitest';
import { CharterError } from '../common/index.js';
import { parsePolicyFile } from './load.js';

// Policy ids are read from the leading annotations; Cedar's JSON answers whatever that plain
// reading cannot, so every spelling Cedar accepts gives Cedar's id.
const ids = (source: string) => parsePolicyFile('p', 'p/policies/x.cedar', source).map((p) => [p.id, p.line]);

describe('parsePolicyFile', () => {
  it('reads ids after comments and other annotations, with the line of each policy', () => {
    const source = [
      '// leading comment @id("not-this")',
      '@id("p.one")',
      'permit (principal, action, resource);',
      '',
      '@advice("read \\"twice\\"")  // an escaped value before the id',
      '@id ( "p.two" )',
      'forbid (principal, action, resource);',
      '@id(',
      '  // a comment inside the annotation',
      '  "p.three")',
      'permit (principal, action, resource);',
      '@id("p.\\u{1F600}")',
      'permit (principal, action, resource);',
    ].join('\n');
    expect(ids(source)).toEqual([
      ['p.one', 2],
      ['p.two', 5],
      ['p.three', 8],
      ['p.\u{1F600}', 12],
    ]);
  });

  it('a policy without an @id value names file and line', () => {
    for (const source of [
      'permit (principal, action, resource);',
      '@id\npermit (principal, action, resource);',
      '@id("")\npermit (principal, action, resource);',
    ]) {
      let caught: unknown;
      try {
        ids(source);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(CharterError);
      expect((caught as CharterError).message).toMatch(/p\/policies\/x\.cedar:1: policy has no @id/);
    }
  });
});

describe('parsePolicyFile on large files', () => {
  // cedar-wasm returns policies sorted by its own ids (policy0, policy1, policy10, ...), not in
  // source order: every line must still be right, and the pass over the file linear.
  it('gives every one of 500 policies its own line, the last one included', () => {
    let source = '';
    for (let i = 0; i < 500; i++) source += `// policy ${i}\n@id("p.n${i}")\nforbid (principal, action, resource)\nwhen { false };\n\n`;
    const parsed = parsePolicyFile('p', 'p/policies/x.cedar', source);
    expect(parsed.map((p) => p.id)).toEqual(Array.from({ length: 500 }, (_, i) => `p.n${i}`));
    expect(parsed.map((p) => p.line)).toEqual(Array.from({ length: 500 }, (_, i) => i * 5 + 2));
    expect(parsed[499]!.offset).toBe(source.lastIndexOf('@id("p.n499")'));
  });

  it('a missing @id in the third of 500 policies names its line (it sorts after policy199)', () => {
    const source = Array.from({ length: 500 }, (_, i) =>
      i === 2 ? '\npermit (principal, action, resource);\n' : `@id("p.n${i}")\nforbid (principal, action, resource);\n`,
    ).join('');
    expect(() => parsePolicyFile('p', 'p/policies/x.cedar', source)).toThrow(/p\/policies\/x\.cedar:6: policy has no @id/);
  });
});
