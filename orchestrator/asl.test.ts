import { describe, expect, it } from 'vitest';
import { exportAsl, validateAsl } from './asl.js';

describe('Step Functions export', () => {
  it('is valid ASL with the seven nodes, the four strategy branches and a 96 h task-token wait', () => {
    const asl = exportAsl();
    expect(() => validateAsl(asl)).not.toThrow();
    for (const s of [
      'IngestAndValidate',
      'KraljicClassify',
      'StrategyRouter',
      'SpotBidding',
      'LeverageAuction',
      'BottleneckNegotiation',
      'StrategicPartnership',
      'Evaluate',
      'ApprovalGate',
      'WaitForApproval',
      'Award',
    ]) {
      expect(asl.States[s], s).toBeDefined();
    }
    expect(asl.States.WaitForApproval).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSeconds: 345_600,
    });
    expect((asl.States.WaitForApproval!.Catch as Array<{ ErrorEquals: string[]; Next: string }>)[0]).toEqual({
      ErrorEquals: ['States.Timeout'],
      ResultPath: '$.error',
      Next: 'ApprovalTimedOut',
    });
  });

  it('rejects a definition the validator finds broken, naming the problem', () => {
    const asl = exportAsl();
    asl.States.Evaluate = { ...asl.States.Evaluate, Next: 'NoSuchState' };
    let err: unknown;
    try {
      validateAsl(asl);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ exitCode: 1 });
    expect((err as { details: string[] }).details.join('\n')).toMatch(/MISSING_TRANSITION_TARGET.*NoSuchState/);
  });
});
