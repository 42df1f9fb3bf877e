import { describe, expect, it } from 'vitest';
import { CharterError } from '../common/index.js';
import { cedar, policyDiagnostic } from './cedar.js';
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

describe('errors in policy #57 of a 100-policy file name its true line and column', () => {
  // cedar-wasm returns policies in id order (policy0, policy1, policy10, ...): a policy's offset
  // taken from the wrong one would put a validation error on another policy's line.
  const file = 'p/policies/big.cedar';
  const policy = (i: number) =>
    i === 56
      ? `@id("p.n${i}")\nforbid (principal, action, resource)\nwhen {\n  context.nope > 1\n};\n`
      : `@id("p.n${i}")\nforbid (principal, action, resource)\nwhen { context.amount > ${i} };\n`;
  const source = Array.from({ length: 100 }, (_, i) => `// policy ${i + 1}\n${policy(i)}\n`).join('');
  // Policy #57 starts after 56 policies of 5 lines; its `context.nope` is 3 lines further, at column 3.
  const line = 56 * 5 + 2 + 3;

  it('a strict validation error', () => {
    const parsed = parsePolicyFile('p', file, source);
    const p = parsed[56]!;
    expect(p.id).toBe('p.n56');
    const out = cedar.validate({
      schema: 'action go appliesTo { principal: [U], resource: [U], context: { amount: Long } }; entity U;',
      policies: { staticPolicies: { x: p.text } },
      validationSettings: { mode: 'strict' },
    });
    if (out.type !== 'success') throw new Error('validate failed');
    expect(out.validationErrors.length).toBeGreaterThan(0);
    expect(policyDiagnostic(p.id, p, out.validationErrors[0]!.error)).toMatch(
      new RegExp(`^policy p\\.n56 \\(pack p, p/policies/big\\.cedar:${line}:3\\)`),
    );
  });

  it('malformed Cedar', () => {
    const broken = source.replace('context.nope > 1', 'context.nope >');
    expect(() => parsePolicyFile('p', file, broken)).toThrow(new RegExp(`p/policies/big\\.cedar:${line + 1}:1: malformed Cedar`));
  });
});
