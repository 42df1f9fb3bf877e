import { InputError } from '../../common/index.js';
import { getField, type ScorerSpec } from '../suite.js';
import { codeChecks } from './code-checks.js';
import { compileJsonSchema, exactMatch, jsonSchemaCheck, ndcg, numericMatch, setMatch, top1 } from './ground-truth.js';
import type { LocalScorer, MetricKind } from './types.js';

export interface BuiltScorer {
  name: string;
  type: ScorerSpec['type'];
  kind: MetricKind;
  /** Absent for judge scorers, which run through the judge provider. */
  score?: LocalScorer;
}

/** Turns a suite's scorer spec into a scoring function; unknown checks and bad schemas are input errors. */
export function buildScorer(spec: ScorerSpec, file: string, index: number): BuiltScorer {
  const field = `scorers[${index}]`;
  const base = { name: spec.name, type: spec.type };
  switch (spec.type) {
    case 'exact':
      return { ...base, kind: 'rate', score: (o, c) => exactMatch(getField(o, spec.output), getField(c, spec.expected)) };
    case 'numeric':
      return { ...base, kind: 'rate', score: (o, c) => numericMatch(getField(o, spec.output), getField(c, spec.expected), spec.tolerance) };
    case 'set':
      return {
        ...base,
        kind: spec.measure === 'equal' ? 'rate' : 'mean',
        score: (o, c) => setMatch(getField(o, spec.output), getField(c, spec.expected), spec.measure),
      };
    case 'rank':
      return spec.measure === 'top1'
        ? { ...base, kind: 'rate', score: (o, c) => top1(getField(o, spec.output), getField(c, spec.expected)) }
        : { ...base, kind: 'mean', score: (o, c) => ndcg(getField(o, spec.output), getField(c, spec.expected), spec.k) };
    case 'json-schema': {
      let validate;
      try {
        validate = compileJsonSchema(spec.schema);
      } catch (err) {
        throw new InputError(`JSON Schema does not compile: ${(err as Error).message}`, { file, field: `${field}.schema` });
      }
      return { ...base, kind: 'rate', score: (o) => jsonSchemaCheck(validate, spec.output ? getField(o, spec.output) : o) };
    }
    case 'code': {
      const check = codeChecks[spec.check];
      if (!check)
        throw new InputError(`unknown code check '${spec.check}' (one of ${Object.keys(codeChecks).join(', ')})`, {
          file,
          field: `${field}.check`,
        });
      return { ...base, kind: 'rate', score: check };
    }
    case 'judge':
      return { ...base, kind: 'rate' };
  }
}
