import { describe, expect, it } from 'vitest';
import { contentPath, InputError } from '../common/index.js';
import { Environment, loadGateDefinition } from './index.js';

const BAD = contentPath('release-gates', 'fixtures', 'gates-bad');

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('gate definitions', () => {
  it('loads every shipped environment, prod requiring approval and every check', () => {
    for (const env of Environment.options) expect(loadGateDefinition(env).environment).toBe(env);
    const prod = loadGateDefinition('prod');
    expect(Object.values(prod.gates).every((g) => g.enforcement === 'required')).toBe(true);
    expect(prod.gates.approval.approvers.length).toBeGreaterThanOrEqual(2);
  });

  it('names file, line and field of an out-of-range limit', () => {
    const e = inputError(() => loadGateDefinition('stg', BAD));
    expect(e.exitCode).toBe(2);
    expect(e.location).toMatchObject({ line: 12, field: 'gates.canary.maxFlipRate' });
    expect(e.message).toMatch(/gates-bad\/stg\.yaml:12 \(gates\.canary\.maxFlipRate\): .*1/);
  });

  it('names file, line and field of an unknown enforcement', () => {
    const e = inputError(() => loadGateDefinition('prod', BAD));
    expect(e.message).toMatch(/gates-bad\/prod\.yaml:8 \(gates\.evals\.enforcement\): /);
  });

  it('refuses a file whose environment is not the one asked for, and an unknown environment', () => {
    expect(inputError(() => loadGateDefinition('dev', BAD)).message).toMatch(
      /gates-bad\/dev\.yaml \(environment\): environment is 'stg' but the file is for 'dev'/,
    );
    expect(inputError(() => loadGateDefinition('qa')).message).toBe("(--env): unknown environment 'qa' (one of dev, stg, prod)");
  });
});
