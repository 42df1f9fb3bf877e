import { describe, expect, it } from 'vitest';
import { Calibration, CALIBRATION_VERSION } from './calibrate.js';

// The calibration record's schema: version 2 carries the per-label counts, which must add up to
// the calibrated rows; a version 1 record (before the counts) still reads, without them.

const v1 = {
  apiVersion: 'charter.dev/v1',
  kind: 'JudgeCalibration',
  judge: { identity: { provider: 'openai', model: 'm' }, digest: 'sha256:' + 'a'.repeat(64) },
  dataset: { ref: 'judge-calibration@v1', digest: 'sha256:' + 'b'.repeat(64) },
  n: 4,
  errors: 0,
  accuracy: 0.75,
  kappa: 0.5,
  kappaLow: -0.2,
  kappaHigh: 1,
  kappaMethod: 'wilson-agreement',
  minKappa: 0.6,
  passed: false,
  disagreements: [{ id: 'c3', expected: 'fail', judged: 'pass', reason: 'r' }],
  at: '2026-11-30T09:00:00.000Z',
};
const confusion = {
  labels: ['fail', 'pass'],
  counts: [
    [1, 1],
    [0, 2],
  ],
};

describe('Calibration record', () => {
  it('reads a version 1 record (no per-label counts) and a version 2 record with counts adding up to n', () => {
    expect(Calibration.parse(v1).confusion).toBeUndefined();
    expect(Calibration.parse({ ...v1, version: CALIBRATION_VERSION, confusion }).confusion).toEqual(confusion);
  });
  it('refuses counts that do not add up to n, a matrix that is not square, and a version 2 record without counts', () => {
    const bad = (c: object) => Calibration.safeParse({ ...v1, version: CALIBRATION_VERSION, ...c }).error?.issues[0]?.message;
    expect(
      bad({
        confusion: {
          ...confusion,
          counts: [
            [1, 1],
            [0, 3],
          ],
        },
      }),
    ).toBe('the counts do not add up to n (4)');
    expect(
      bad({
        confusion: {
          ...confusion,
          counts: [
            [1, 1, 0],
            [0, 2, 0],
          ],
        },
      }),
    ).toBe('not a 2x2 matrix');
    expect(bad({})).toMatch(/version 2 records carry confusion/);
    expect(Calibration.safeParse({ ...v1, confusion }).success).toBe(false);
  });
});
