import { describe, expect, it } from 'vitest';
import { runWithTenant } from './tenant-context.js';
import { Toolbox, ToolDeniedError, ToolFailedError, type ToolChannel } from './toolbox.js';

/** A channel that records what reached it and answers like the gateway does. */
function recordingChannel(): ToolChannel & { seen: Array<{ tool: string; args: Record<string, unknown>; meta: Record<string, unknown> }> } {
  const seen: Array<{ tool: string; args: Record<string, unknown>; meta: Record<string, unknown> }> = [];
  return {
    seen,
    async callTool(tool, args, meta) {
      seen.push({ tool, args, meta });
      if (tool === 'broken')
        return {
          decision: { outcome: 'guarded', decision: 'allow', recordId: 'r', reasons: [] },
          value: null,
          isError: true,
          error: 'upstream failed: fetch failed',
        };
      const denied = tool === 'forbidden';
      return {
        decision: {
          outcome: denied ? 'denied' : 'allowed',
          decision: denied ? 'deny' : 'allow',
          recordId: 'r',
          reasons: denied ? ['no'] : [],
        },
        value: { ok: !denied },
        isError: denied,
        ...(denied ? { error: 'denied: no' } : {}),
      };
    },
  };
}

describe('tenant context on every tool call', () => {
  it('carries the tenant, trace and run ids of the invocation, and sets tenant_id only where the contract takes it', async () => {
    const channel = recordingChannel();
    const tools = new Toolbox(channel, 'acme', 'spot-bidding', new Set(['get_bids']));
    await runWithTenant({ tenantId: 'acme', agent: 'spot-bidding', negotiationId: 'n-1', traceId: 't-1' }, async () => {
      await tools.call('get_bids', { negotiationId: 'acme/n-1', tenant_id: 'globex' });
      await tools.call('no_tenant_arg', { x: 1 });
    });
    expect(channel.seen[0]).toEqual({
      tool: 'get_bids',
      args: { negotiationId: 'acme/n-1', tenant_id: 'acme' },
      meta: { 'charter/traceId': 't-1', 'charter/runId': 'n-1' },
    });
    expect(channel.seen[1]!.args).toEqual({ x: 1 });
  });

  it('refuses a call outside an invocation, or inside another tenant', async () => {
    const channel = recordingChannel();
    const tools = new Toolbox(channel, 'acme', 'spot-bidding', new Set());
    await expect(tools.call('get_bids', {})).rejects.toThrow(/no tenant context/);
    await expect(runWithTenant({ tenantId: 'globex', agent: 'spot-bidding' }, () => tools.call('get_bids', {}))).rejects.toThrow(
      /tenant context violation/,
    );
    expect(() => runWithTenant({ tenantId: 'acme', agent: 'a' }, () => runWithTenant({ tenantId: 'globex', agent: 'a' }, () => 1))).toThrow(
      /inside a run of tenant 'acme'/,
    );
    expect(channel.seen).toHaveLength(0);
  });

  it('turns a refused call into ToolDeniedError naming the tool and the reason', async () => {
    const tools = new Toolbox(recordingChannel(), 'acme', 'spot-bidding', new Set());
    const err = await runWithTenant({ tenantId: 'acme', agent: 'spot-bidding' }, () => tools.call('forbidden', {})).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ToolDeniedError);
    expect((err as Error).message).toMatch(/tool forbidden was refused: denied: no/);
  });

  it('tells a tool that failed after an allow from a refusal: only the refusal is a governance outcome', async () => {
    const tools = new Toolbox(recordingChannel(), 'acme', 'spot-bidding', new Set());
    const err = await runWithTenant({ tenantId: 'acme', agent: 'spot-bidding' }, () => tools.call('broken', {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolFailedError);
    expect(err).not.toBeInstanceOf(ToolDeniedError);
    expect((err as Error).message).toBe('tool broken failed after the gateway allowed it: upstream failed: fetch failed');
  });
});
