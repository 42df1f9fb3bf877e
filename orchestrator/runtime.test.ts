import { describe, expect, it } from 'vitest';
import type { ApprovalStore } from '../gateway/index.js';
import { CheckpointConflict } from './errors.js';
import type { Orchestrator } from './orchestrator.js';
import { NegotiationRuntime } from './runtime.js';
import type { NegotiationState } from './state.js';
import { NegotiationStore } from './store.js';

/**
 * The runtime's answer to a run refused a checkpoint because another run wrote first. The
 * orchestrator here is scripted (its runs fail with the conflict the stores throw); the store and
 * its leases are the real SQLite store.
 */
const TENANT = 'acme';
const ID = 'acme-n001';
const LEASE_MS = 1_000;

function runtimeWith(run: (clock: { now: number }) => Promise<void>) {
  const store = new NegotiationStore(':memory:');
  const clock = { now: 1_000_000 };
  const runs: number[] = [];
  const orchestrator = {
    submit: async () => ({ tenantId: TENANT, negotiationId: ID, status: 'ACTIVE' }) as NegotiationState,
    run: async () => {
      runs.push(clock.now);
      await run(clock);
      return { tenantId: TENANT, negotiationId: ID, status: 'AWARDED' } as NegotiationState;
    },
  } as unknown as Orchestrator;
  const log: string[] = [];
  const runtime = new NegotiationRuntime({
    orchestrator,
    store,
    approvals: {} as ApprovalStore,
    owner: 'runner-a',
    leaseMs: LEASE_MS,
    now: () => clock.now,
    log: (m) => log.push(m),
  });
  runtime.start();
  /** Who holds the negotiation's lease now (an expired one is still listed, with its owner). */
  const leaseOwner = () => store.expiredLeases(Number.MAX_SAFE_INTEGER).find((l) => l.negotiationId === ID)?.owner;
  return { store, clock, runs, runtime, log, leaseOwner };
}

describe('NegotiationRuntime: a run that lost a checkpoint race', () => {
  it('starts again from the newest checkpoint while it holds the lease, then gives the lease back', async () => {
    let conflicts = 1;
    const t = runtimeWith(async () => {
      if (conflicts-- > 0) throw new CheckpointConflict(`${TENANT}#${ID}`, 3);
    });
    await t.runtime.submit(TENANT, { negotiationId: ID });
    await t.runtime.idle();
    await t.runtime.stop();
    // Given back after the first failure (the old behaviour), the negotiation stayed ACTIVE with no lease and no runner.
    expect(t.runs).toHaveLength(2);
    expect(t.runtime.failure(TENANT, ID)).toBeUndefined();
    expect(t.log).toContain(`${TENANT}#${ID}: resuming from its newest checkpoint after the conflicting write`);
    expect(t.leaseOwner()).toBeUndefined();
  });

  it('leaves the negotiation to the runner that took the lease over, and keeps that runner’s lease', async () => {
    const t = runtimeWith(async (clock) => {
      // This runner stalled past its lease; another took the negotiation over and wrote first.
      clock.now += LEASE_MS + 1;
      expect(t.store.acquireLease(TENANT, ID, 'runner-b', LEASE_MS, clock.now)).toBe(true);
      throw new CheckpointConflict(`${TENANT}#${ID}`, 3);
    });
    await t.runtime.submit(TENANT, { negotiationId: ID });
    await t.runtime.idle();
    await t.runtime.stop();
    expect(t.runs).toHaveLength(1);
    expect(t.runtime.failure(TENANT, ID)).toMatch(/checkpoint conflict/);
    expect(t.leaseOwner()).toBe('runner-b');
  });

  it('gives up after three restarts in a row and records the failure', async () => {
    const t = runtimeWith(async () => {
      throw new CheckpointConflict(`${TENANT}#${ID}`, 3);
    });
    await t.runtime.submit(TENANT, { negotiationId: ID });
    await t.runtime.idle();
    await t.runtime.stop();
    expect(t.runs).toHaveLength(4);
    expect(t.runtime.failure(TENANT, ID)).toMatch(/checkpoint conflict on acme#acme-n001/);
    expect(t.leaseOwner()).toBeUndefined();
  });
});
