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
