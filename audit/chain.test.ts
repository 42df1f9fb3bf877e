import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../signing/index.js';
import { canonicalBody, chainRecord, checkLine, recomputeHash } from './chain.js';
import { exampleDecision, exampleEvidence, type AuditRecord } from './index.js';

const reference = (r: AuditRecord, seq: number, prevHash: string): string => canonicalJson({ ...r, seq, prevHash });
const PREV = `sha256:${'ab'.repeat(32)}`;

describe('canonicalBody', () => {
  it('gives the bytes of canonicalJson for decisions and evidence, shapes alternating', () => {
    const records: AuditRecord[] = [];
    for (let i = 0; i < 40; i++) {
      records.push(
        exampleDecision(i, { reasons: i % 3 ? [] : ['quote " and \\ and \u2028 and \ud83d\ude00 and lone \ud800'], latencyMs: i / 7 }),
      );
      records.push(
        exampleEvidence(i, {
          summary: `Überprüfung ${i}\n\t`,
          document:
            i % 4 === 0 ? undefined : { z: [1, { b: 2, a: [null, true] }], é: 'x', e: -0, big: 1e21, small: 1e-7, [`k${i}`]: 'v', A: {} },
        }),
      );
    }
    // a record whose keys come in another order, and one with an extra key
    const d = exampleDecision(99);
    records.push(Object.fromEntries(Object.entries(d).reverse()) as unknown as AuditRecord);
    records.push({ ...d, extra: { y: 1, x: [2, 1] } } as unknown as AuditRecord);
    records.forEach((r, i) => expect(canonicalBody(r, i, PREV)).toBe(reference(r, i, PREV)));
  });

  it('overrides seq and prevHash carried by the record, as the spread did', () => {
    const r = { ...exampleDecision(1), seq: 5, prevHash: 'old' } as unknown as AuditRecord;
    expect(canonicalBody(r, 7, PREV)).toBe(reference(r, 7, PREV));
  });

  it('rejects what canonical JSON cannot represent', () => {
    expect(() => canonicalBody(exampleDecision(1, { latencyMs: Number.NaN }), 0, PREV)).toThrow(/NaN/);
  });

  it('chains a line that checkLine and recomputeHash accept', () => {
    const r = exampleEvidence(3);
    const { line, hash } = chainRecord(r, 3, PREV);
    expect(checkLine(line)).toEqual({ claimed: hash, actual: hash });
    expect(recomputeHash({ ...r, seq: 3, prevHash: PREV })).toBe(hash);
  });
});
