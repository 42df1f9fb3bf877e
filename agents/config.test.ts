import { describe, expect, it } from 'vitest';
import { resolveAgentConfig, SAFE_DEFAULTS, StaticConfigStore, type ConfigStore } from './config.js';

const store = StaticConfigStore.of({
  defaults: { limits: { spendThresholdCents: 2_000_000 } },
  profiles: { enterprise: { limits: { spendThresholdCents: 10_000_000 }, auction: { maxRounds: 3 } } },
  tenants: {
    acme: {
      profile: 'enterprise',
      config: { limits: { maxSpotBidCents: 99 } },
      agents: { 'leverage-auction': { auction: { convergencePct: 5 } } },
    },
    globex: {},
  },
});

describe('agent configuration', () => {
  it('resolves per-tenant override -> profile -> defaults, field by field', () => {
    const acme = resolveAgentConfig(store, 'acme', 'leverage-auction');
    expect(acme.sources).toEqual(['defaults', 'profile:enterprise', 'tenant:acme']);
    expect(acme.config.limits).toMatchObject({
      spendThresholdCents: 10_000_000,
      maxSpotBidCents: 99,
      maxAuctionRounds: SAFE_DEFAULTS.limits.maxAuctionRounds,
    });
    expect(acme.config.auction).toEqual({ maxRounds: 3, convergencePct: 5 });
    expect(resolveAgentConfig(store, 'acme', 'spot-bidding').config.auction.convergencePct).toBe(SAFE_DEFAULTS.auction.convergencePct);
    const globex = resolveAgentConfig(store, 'globex', 'leverage-auction');
    expect(globex.sources).toEqual(['defaults']);
    expect(globex.config.limits.spendThresholdCents).toBe(2_000_000);
  });

  it('falls back to the safe defaults with a warning when the store fails or holds a bad value', () => {
    const failing: ConfigStore = {
      ...store,
      defaults: () => store.defaults(),
      profileOf: () => 'enterprise',
      profile: () => {
        throw new Error('DynamoDB unreachable');
      },
      tenantOverride: () => ({}),
    };
    const r = resolveAgentConfig(failing, 'acme', 'bid-evaluation');
    expect(r.config).toEqual(SAFE_DEFAULTS);
    expect(r.sources).toEqual(['safe-defaults']);
    expect(r.warnings[0]).toMatch(/config store failed for tenant acme \(DynamoDB unreachable\)/);
    const bad = StaticConfigStore.of({ tenants: { initech: { profile: 'missing' } } });
    expect(resolveAgentConfig(bad, 'initech', 'x').warnings[0]).toMatch(/unknown config profile 'missing'/);
  });

  it('rejects a config file field that does not exist', () => {
    expect(() => StaticConfigStore.of({ defaults: { limits: { spendTresholdCents: 1 } } } as never)).toThrow(/spendTresholdCents/);
  });
});
