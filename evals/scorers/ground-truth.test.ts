import { describe, expect, it } from 'vitest';
import { compileJsonSchema, exactMatch, jsonSchemaCheck, ndcg, numericMatch, setMatch, top1 } from './ground-truth.js';

describe('ground-truth scorers', () => {
  it('exact compares deeply and names both sides on a miss', () => {
    expect(exactMatch({ a: [1, 2] }, { a: [1, 2] }).pass).toBe(true);
    const miss = exactMatch('Leverage', 'Strategic');
    expect(miss).toMatchObject({ pass: false, value: 0 });
    expect(miss.reason).toContain('"Leverage"');
    expect(exactMatch(undefined, null).pass).toBe(false);
  });
  it('numeric applies the tolerance and rejects non-numbers', () => {
    expect(numericMatch(0.81, 0.8, 0.01).pass).toBe(true);
    expect(numericMatch(0.82, 0.8, 0.01).pass).toBe(false);
    expect(numericMatch('0.8', 0.8, 1).pass).toBe(false);
  });
  it('set measures: jaccard, f1, equality; two empty sets agree', () => {
    expect(setMatch(['a', 'b'], ['b', 'c'], 'jaccard').value).toBeCloseTo(1 / 3, 12);
    expect(setMatch(['a', 'b'], ['b', 'c'], 'f1').value).toBeCloseTo(0.5, 12);
    expect(setMatch(['b', 'a'], ['a', 'b'], 'equal').pass).toBe(true);
    expect(setMatch([], [], 'jaccard').value).toBe(1);
    expect(setMatch('a', ['a'], 'jaccard').pass).toBe(false);
  });
  it('nDCG with graded relevance matches a hand-computed value', () => {
    // relevance a=3 b=2 c=1; DCG(b,a,c) = 2 + 3/log2(3) + 1/2; IDCG = 3 + 2/log2(3) + 1/2
    const expected = (2 + 3 / Math.log2(3) + 0.5) / (3 + 2 / Math.log2(3) + 0.5);
    expect(ndcg(['b', 'a', 'c'], ['a', 'b', 'c']).value).toBeCloseTo(expected, 12);
    expect(ndcg(['a', 'b', 'c'], ['a', 'b', 'c']).pass).toBe(true);
    expect(ndcg(['x'], ['a']).value).toBe(0);
    expect(ndcg([], []).pass).toBe(true);
    expect(ndcg(['a'], []).pass).toBe(false);
    // @1 only the first position counts.
    expect(ndcg(['a', 'c', 'b'], ['a', 'b', 'c'], 1).value).toBe(1);
  });
  it('top-1 compares the heads, "no award" included', () => {
    expect(top1(['a', 'x'], ['a', 'b']).pass).toBe(true);
    expect(top1(['b', 'a'], ['a', 'b']).pass).toBe(false);
    expect(top1([], []).pass).toBe(true);
  });
  it('JSON Schema names the failing field', () => {
    const validate = compileJsonSchema({ type: 'object', required: ['quadrant'], properties: { quadrant: { enum: ['Leverage'] } } });
    expect(jsonSchemaCheck(validate, { quadrant: 'Leverage' }).pass).toBe(true);
    expect(jsonSchemaCheck(validate, { quadrant: 'Other' }).reason).toContain('quadrant');
    expect(jsonSchemaCheck(validate, {}).reason).toContain('quadrant');
  });
});
