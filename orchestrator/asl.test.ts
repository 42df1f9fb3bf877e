import { describe, expect, it } from 'vitest';
import { AUCTION_BUSINESS_DAYS, calendarDaysSpanned, executionTimeoutSeconds, exportAsl, validateAsl } from './asl.js';

describe('Step Functions export', () => {
  it('is valid ASL with the seven nodes, the four strategy branches and a task-token wait until the request deadline', () => {
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
      TimeoutSecondsPath: '$.approvalWaitSeconds',
      Next: 'ApprovalGate',
    });
    // Every way out of the wait goes back to node 6, which reads the decision from the request.
    expect((asl.States.WaitForApproval!.Catch as Array<{ ErrorEquals: string[]; Next: string }>)[0]).toMatchObject({
      ErrorEquals: ['States.Timeout', 'ApprovalDenied', 'ApprovalExpired'],
      Next: 'ApprovalGate',
    });
  });

  it('five business days span at most seven calendar days, wherever they start', () => {
    // Walk from every hour of a week: count weekdays until five are done.
    for (let start = 0; start < 7 * 24; start++) {
      let hour = start;
      let business = 0;
      while (business < AUCTION_BUSINESS_DAYS * 24) {
        if (Math.floor(hour / 24) % 7 < 5) business++;
        hour++;
      }
      expect(hour - start).toBeLessThanOrEqual(calendarDaysSpanned(AUCTION_BUSINESS_DAYS) * 24);
    }
    expect(calendarDaysSpanned(5)).toBe(7);
  });

  it('the execution timeout covers a five-business-day auction, 96 h of approval and every task with its retries', () => {
    const asl = exportAsl();
    const auction = 7 * 24 * 3600;
    const approval = 96 * 3600;
    expect(asl.TimeoutSeconds).toBe(executionTimeoutSeconds(approval));
    // 8 tasks on the longest path, each up to 900 s with 3 retries and their 2+4+8 s backoff.
    expect(asl.TimeoutSeconds).toBe(auction + approval + 8 * (900 * 4 + 14));
    expect(asl.TimeoutSeconds).toBeGreaterThan(7 * 24 * 3600 + 96 * 3600);
    expect(exportAsl({ approvalTimeoutSeconds: 3600 }).TimeoutSeconds).toBe(auction + 3600 + 8 * (900 * 4 + 14));
    for (const [name, state] of Object.entries(asl.States))
      if (state.Resource === 'arn:aws:states:::lambda:invoke') expect(state.TimeoutSeconds, name).toBe(900);
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
