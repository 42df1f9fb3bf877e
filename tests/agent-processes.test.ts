import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_NAMES,
  ENVELOPE_HEADER,
  envelopeHeader,
  IDENTITY_HEADER,
  INVOCATION_ENVELOPE,
  sealInvocation,
  SESSION_HEADER,
  StaticConfigStore,
  type InvocationPayload,
  type ToolDecision,
} from '../agents/index.js';
import { negotiationTraceId } from '../common/index.js';
import { sealAgentMessage } from '../gateway/index.js';
import { digestJson, LocalKeySigner, generateEd25519Key, loadPrivateKey } from '../signing/index.js';
import { openAuditLog, queryAudit, type AuditLog } from '../audit/index.js';
import {
  AgentSupervisor,
  openProcurementStack,
  ORCHESTRATOR_PRINCIPAL,
  referenceWorld,
  sampleRequisition,
  type NegotiationState,
  type ProcurementStack,
  type ProcurementStackOptions,
  type ReferenceWorld,
} from '../orchestrator/index.js';
import { procurementHome, type ProcurementHome } from './procurement-home.js';
import { startConverseServer, type RunningJsonServer } from './servers/converse.js';

/**
 * The eight agents as their own processes (`charter agents serve` of the built CLI, started by
 * the stack's supervisor) behind the AgentCore Runtime contract; their tool calls reach the
 * gateway over MCP (HTTP) with a per-invocation token the orchestrator mints, and the gateway
 * takes tenant and agent from it.
 */
const TENANTS = ['acme', 'globex'];
let home: string;
let charter: ProcurementHome;

interface Run {
  stack: ProcurementStack;
  world: ReferenceWorld;
  audit: AuditLog;
  auditDir: string;
  warnings: string[];
  close(): Promise<void>;
}

/**
 * The platform's tenant config (orchestrator and gateway): initech allows two auction rounds.
 * The agent processes read their config from the home (no tenants.yaml: the defaults, five).
 */
const MODEL = 'amazon.nova-micro-v1:0';
/** umbrella's classifier uses a model, for the platform and (tenants.yaml in the home) for the agent processes. */
const umbrella = { umbrella: { config: { models: { SimpleLLM: MODEL } } } };
const platformConfig = StaticConfigStore.of({
  defaults: { admission: { reservedSlots: 2, maxSlots: 10 }, limits: { spendThresholdCents: 5_000_000 } },
  tenants: { initech: { config: { limits: { maxAuctionRounds: 2 } } }, ...umbrella },
});

async function open(name: string, extra: Partial<ProcurementStackOptions> = {}): Promise<Run> {
  // 100 ms a quote: node 4b's five auction rounds last long enough to kill its process mid-way.
  const world = referenceWorld({ tenants: [...TENANTS, 'initech', 'umbrella'], latencyMs: 100 });
  const suppliers = await world.network.serve();
  const auditDir = join(home, name, 'audit');
  const audit = await openAuditLog({ dir: auditDir, signer: charter.auditSigner, origin: 'test/agent-processes' });
  const warnings: string[] = [];
  const stack = await openProcurementStack({
    ...charter.stackOptions(join(home, name), world, suppliers.url, audit),
    config: platformConfig,
    // Slow moments on a loaded machine must not open the supplier breaker (no bids would differ by mode).
    supplierClient: { timeoutMs: 60_000, failureThreshold: 1_000, openMs: 1_000 },
    warn: (m) => warnings.push(m),
    ...extra,
  });
  return {
    stack,
    world,
    audit,
    auditDir,
    warnings,
    async close() {
      await stack.close();
      await audit.close();
      await suppliers.close();
    },
  };
}

let procs: Run;
let converse: RunningJsonServer;
/** The AWS settings the agent processes inherit: their Bedrock Runtime client reaches the local Converse server. */
const AWS_ENV = ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const savedEnv = Object.fromEntries(AWS_ENV.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'charter-agent-processes-'));
  charter = await procurementHome(home);
  converse = await startConverseServer(() => ({ text: '{"quadrant": "Non-Critical", "confidence": 0.91}' }));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: converse.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  writeFileSync(join(home, 'tenants.yaml'), JSON.stringify({ tenants: umbrella }));
  procs = await open('processes', { agentProcesses: { home } });
}, 180_000);

afterAll(async () => {
  const pids = AGENT_NAMES.map((a) => procs?.stack.processes?.supervisor.pid(a));
  await procs?.close();
  await converse?.close();
  for (const k of AWS_ENV)
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  // close() stopped every agent process.
  for (const pid of pids) if (pid) expect(() => process.kill(pid, 0)).toThrow();
  rmSync(home, { recursive: true, force: true });
}, 60_000);

/** An MCP client at the gateway over HTTP with a bearer token. */
async function gatewayClient(token: string): Promise<Client> {
  const client = new Client({ name: 'agent-processes-test', version: '0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(procs.stack.processes!.gatewayUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** The manifest digest the gateway enforces for an agent. */
const digestOf = (agent: string) => charter.manifests.find((m) => m.manifest.agent.name === agent)!.digest;

const requisitions = [...TENANTS.flatMap((t) => [0, 1, 2, 3].map((i) => ({ tenant: t, requisition: sampleRequisition(t, i) })))];

function outcome(n: NegotiationState) {
  return {
    quadrant: n.classification?.output.quadrant,
    route: n.route?.agent,
    bids: n.strategy?.output.bids.map((b) => [b.supplierId, b.round, b.priceCents]),
    award: n.evaluation?.output.award,
    pos: n.award?.output.purchaseOrders.length,
    status: n.status,
  };
}

describe('agents as their own processes', () => {
  it('runs two tenants to AWARDED with each agent in its own process, every tool call audited under the right tenant and agent, as in process', async () => {
    const pids = AGENT_NAMES.map((a) => procs.stack.processes!.supervisor.pid(a));
    expect(new Set(pids).size).toBe(AGENT_NAMES.length);
    expect(pids).not.toContain(process.pid);

    const results = await Promise.all(
      requisitions.map(({ tenant, requisition }) => procs.stack.orchestrator.negotiate(tenant, requisition)),
    );
    for (const r of results) expect(r.status, `${r.negotiationId}: ${r.reason}`).toBe('AWARDED');
    expect(new Set(results.map((r) => r.route!.agent))).toEqual(
      new Set(['spot-bidding', 'leverage-auction', 'bottleneck-negotiation', 'strategic-partnership']),
    );

    await procs.audit.flush();
    const records = await queryAudit({ dir: procs.auditDir, kind: 'decision' });
    const costs = procs.stack.store.costs();
    for (const r of results) {
      const trace = negotiationTraceId(r.tenantId, r.negotiationId);
      const mine = records.filter((rec) => rec.traceId === trace);
      const agents = ['kraljic-classifier', r.route!.agent, 'bid-evaluation', 'award-communications'];
      for (const rec of mine) {
        if (rec.kind !== 'decision') continue;
        expect(rec.tenantId).toBe(r.tenantId);
        expect(rec.principal).toBe(ORCHESTRATOR_PRINCIPAL);
        expect(agents).toContain(rec.agentId);
        expect(rec.decision, `${rec.tool}: ${rec.reasons.join('; ')}`).toBe('allow');
      }
      // Cost attribution still holds: the usage each process reported is what the gateway saw.
      for (const agent of agents) {
        const row = costs.find((c) => c.tenantId === r.tenantId && c.negotiationId === r.negotiationId && c.agent === agent);
        expect(row, `${trace} ${agent}`).toMatchObject({ invocations: 1, model: 'rules' });
        expect(row!.toolCalls).toBe(mine.filter((rec) => rec.kind === 'decision' && rec.agentId === agent).length);
        expect(row!.toolCalls).toBeGreaterThan(0);
      }
    }
    // Nothing went to the gateway outside these negotiations.
    expect(records.every((rec) => results.some((r) => rec.traceId === negotiationTraceId(r.tenantId, r.negotiationId)))).toBe(true);

    // The same requisitions with the agents in process decide the same way.
    const inProcess = await open('in-process');
    try {
      const local = await Promise.all(
        requisitions.map(({ tenant, requisition }) => inProcess.stack.orchestrator.negotiate(tenant, requisition)),
      );
      expect(local.map(outcome)).toEqual(results.map(outcome));
      const strip = (rows: typeof costs) => rows.filter((c) => c.agent !== 'orchestrator');
      expect(strip(inProcess.stack.store.costs())).toEqual(strip(costs));
    } finally {
      await inProcess.close();
    }
  }, 180_000);

  it("attributes a model's tokens used in an agent process to tenant, negotiation, agent and model", async () => {
    const done = await procs.stack.orchestrator.negotiate('umbrella', sampleRequisition('umbrella', 0));
    expect(done.status, done.reason ?? '').toBe('AWARDED');
    expect(done.classification).toMatchObject({
      producedBy: { model: MODEL },
      output: { quadrant: 'Non-Critical', confidence: 0.91, method: 'model' },
    });
    const costs = procs.stack.store.costs({ tenantId: 'umbrella' });
    expect(costs.find((c) => c.agent === 'kraljic-classifier')).toMatchObject({
      negotiationId: 'umbrella-n001',
      model: MODEL,
      invocations: 1,
      modelCalls: 1,
      inputTokens: 120,
      outputTokens: 30,
    });
    // Every Converse call the processes made (the SimpleLLM spot-bidding agent asks too) is attributed.
    const calls = converse.requests.filter((r) => r.path.includes(encodeURIComponent(MODEL))).length;
    expect(calls).toBeGreaterThan(1);
    expect(costs.reduce((n, c) => n + c.modelCalls, 0)).toBe(calls);
    expect(costs.reduce((n, c) => n + c.inputTokens, 0)).toBe(120 * calls);
  }, 60_000);

  it('takes tenant and agent from the token: a call naming another tenant is refused, not rewritten; another agent tool is refused', async () => {
    const client = await gatewayClient(await procs.stack.processes!.identity.mint('acme', 'bid-evaluation'));
    try {
      const listed = (await client.listTools()).tools.map((t) => t.name).sort();
      expect(listed).toEqual([
        'compute_tco',
        'flag_requires_attention',
        'get_bids',
        'get_negotiation',
        'get_supplier_profile',
        'record_evaluation',
      ]);

      const call = async (name: string, args: Record<string, unknown>) => {
        const res = (await client.callTool({ name, arguments: args })) as CallToolResult;
        return {
          isError: res.isError === true,
          decision: res._meta?.['charter/decision'] as ToolDecision,
          text: JSON.stringify(res.content),
        };
      };
      // tenant_id names globex: refused (the gateway does not rewrite a mismatch, it denies it).
      const forged = await call('get_bids', { tenant_id: 'globex', negotiationId: 'acme/acme-n001' });
      expect(forged.isError).toBe(true);
      expect(forged.decision.decision).toBe('deny');
      expect(forged.decision.reasons.join(' ')).toMatch(/tenant mismatch: args\.tenant_id is 'globex', the caller's tenant is 'acme'/);
      // Without tenant_id, naming globex's negotiation: the caller is acme, tenant isolation denies it.
      const foreign = await call('get_bids', { negotiationId: 'globex/globex-n001' });
      expect(foreign.isError).toBe(true);
      expect(foreign.decision.decision).toBe('deny');
      expect(foreign.text).not.toMatch(/globex-s\d+/);
      // The same token cannot act as another agent.
      const otherAgent = await call('issue_purchase_order', { bidId: 'acme-s01-acme-n001-r1', amountCents: 1 });
      expect(otherAgent.isError).toBe(true);
      expect(otherAgent.decision.decision).toBe('deny');
      // The token's own tenant still works: acme's bids, with acme's tenant_id written in.
      const own = await call('get_bids', { negotiationId: 'acme/acme-n001' });
      expect(own.isError, own.text).toBe(false);
      expect(own.text).toMatch(/acme-s\d+/);

      await procs.audit.flush();
      const refused = (await queryAudit({ dir: procs.auditDir, kind: 'decision', agent: 'bid-evaluation', decision: 'deny' })).filter(
        (r) => r.traceId === null,
      );
      expect(refused.map((r) => (r.kind === 'decision' ? [r.tenantId, r.agentId, r.tool] : []))).toEqual([
        ['acme', 'bid-evaluation', 'get_bids'],
        ['acme', 'bid-evaluation', 'get_bids'],
        ['acme', 'bid-evaluation', 'issue_purchase_order'],
      ]);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('refuses an agent process that oversteps the tenant limits the platform enforces: the refusal crosses the runtime contract and the negotiation goes to compliance review', async () => {
    const done = await procs.stack.orchestrator.negotiate('initech', sampleRequisition('initech', 1));
    expect(done.status).toBe('REQUIRES_ATTENTION');
    expect(done.attention).toMatchObject({
      trigger: 'tool_refused',
      details: { node: 'strategy', tool: 'open_auction_round' },
      severity: 'major',
    });
    expect(done.attention?.caseId).toBeTruthy();
    await procs.audit.flush();
    const denied = (await queryAudit({ dir: procs.auditDir, kind: 'decision', tenant: 'initech', decision: 'deny' })).map((r) =>
      r.kind === 'decision' ? [r.agentId, r.tool, r.determiningPolicies] : [],
    );
    expect(denied).toEqual([['leverage-auction', 'open_auction_round', ['procurement.auction-round-limit']]]);
  }, 60_000);

  it('refuses an expired token at the gateway and at the agent process, and a token of another tenant at the agent', async () => {
    const issuer = procs.stack.processes!.identity;
    const expired = await issuer.mint('acme', 'kraljic-classifier', Date.now() - 10 * 60_000);
    await expect(gatewayClient(expired)).rejects.toThrow(/token rejected \(ERR_JWT_EXPIRED/);

    const { url } = await procs.stack.processes!.supervisor.endpoint('kraljic-classifier');
    const session = 'acme.adhoc.kraljic-classifier'.padEnd(33, '.');
    const invoke = async (token: string, tenantId: string) => {
      const payload = {
        tenantId,
        input: { negotiationId: 'acme-n001', categoryId: 'office-supplies', profitImpact: 0.2, supplyRisk: 0.2 },
      };
      const envelope = envelopeHeader(
        await sealInvocation(charter.envelopeSigner, 'kraljic-classifier', digestOf('kraljic-classifier'), payload),
      );
      return fetch(`${url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SESSION_HEADER]: session, [IDENTITY_HEADER]: token, [ENVELOPE_HEADER]: envelope },
        body: JSON.stringify(payload),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string } }));
    };
    const stale = await invoke(expired, 'acme');
    expect(stale.status).toBe(401);
    expect(stale.body.error).toMatch(/ERR_JWT_EXPIRED/);
    const foreign = await invoke(await issuer.mint('acme', 'kraljic-classifier'), 'globex');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatch(/tenant 'acme', the payload names 'globex'/);
    const otherAgent = await invoke(await issuer.mint('acme', 'spot-bidding'), 'acme');
    expect(otherAgent.status).toBe(403);
    // Refused invocations never bound the session: acme's own token still runs in it.
    const valid = await invoke(await issuer.mint('acme', 'kraljic-classifier'), 'acme');
    expect(valid, JSON.stringify(valid.body)).toMatchObject({ status: 200, body: { agent: 'kraljic-classifier', tenantId: 'acme' } });
  }, 60_000);

  it('refuses, and records, an invocation whose envelope is missing, tampered, expired, for another agent or tenant, or replayed, also after the agent process restarted', async () => {
    const agent = 'kraljic-classifier';
    const supervisor = procs.stack.processes!.supervisor;
    const issuer = procs.stack.processes!.identity;
    const payload: InvocationPayload = {
      tenantId: 'acme',
      input: { negotiationId: 'acme-n001', categoryId: 'office-supplies', profitImpact: 0.2, supplyRisk: 0.2 },
      traceId: 'envelope-attacks',
    };
    const session = `acme.adhoc.${agent}`.padEnd(33, '.');
    const send = async (body: InvocationPayload, envelope: string | undefined, token?: string) => {
      const { url } = await supervisor.endpoint(agent);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        [SESSION_HEADER]: session,
        [IDENTITY_HEADER]: token ?? (await issuer.mint(body.tenantId, agent)),
        ...(envelope ? { [ENVELOPE_HEADER]: envelope } : {}),
      };
      const res = await fetch(`${url}/invocations`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { error?: string; agent?: string } };
    };
    const seal = (over: Partial<Parameters<typeof sealAgentMessage>[0]> = {}, signer = charter.envelopeSigner, body = payload) =>
      sealAgentMessage(
        {
          agent_id: INVOCATION_ENVELOPE.sender,
          recipient: agent,
          tenant_id: body.tenantId,
          trace_id: 'envelope-attacks',
          policy_context: digestOf(agent),
          action: INVOCATION_ENVELOPE.action,
          body: { payloadDigest: digestJson(body) },
          ttl: INVOCATION_ENVELOPE.ttlSeconds,
          ...over,
        },
        signer,
      ).then(envelopeHeader);

    // The orchestrator's own envelope works, once.
    const good = await seal();
    const first = await send(payload, good);
    // Accepted: the agent ran (its answer, or its refused tool call when no such negotiation exists yet).
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.error ?? '').not.toMatch(/envelope/);

    const rogue = generateEd25519Key(join(home, 'rogue-keys'), INVOCATION_ENVELOPE.sender, ['agent-envelope']);
    const refusals: Array<[string, Promise<{ status: number; body: { error?: string } }>, RegExp]> = [
      ['missing', send(payload, undefined), /carries none/],
      [
        'tampered payload',
        send({ ...payload, input: { ...(payload.input as object), profitImpact: 0.9 } }, await seal()),
        /body does not match/,
      ],
      [
        'signed by an untrusted key',
        send(payload, await seal({}, new LocalKeySigner(loadPrivateKey(rogue.privateKeyFile)))),
        /0 valid signature/,
      ],
      ['expired', send(payload, await seal({ iat: Math.floor(Date.now() / 1000) - 120 })), /expired/],
      [
        'for another agent',
        send(payload, await seal({ recipient: 'spot-bidding' })),
        /addressed to 'spot-bidding', this receiver is 'kraljic-classifier'/,
      ],
      ['under another manifest', send(payload, await seal({ policy_context: digestOf('spot-bidding') })), /is not the expected manifest/],
      [
        'for another tenant than the token',
        send(payload, await seal({ tenant_id: 'globex' })),
        /tenant 'globex' crosses the boundary of tenant 'acme'/,
      ],
    ];
    for (const [what, pending, reason] of refusals) {
      const r = await pending;
      expect(r.status, what).toBe(403);
      expect(r.body.error, what).toMatch(reason);
    }

    // The process restarts (killed); the envelope it accepted before is still a replay.
    const pid = supervisor.pid(agent)!;
    process.kill(pid, 'SIGKILL');
    const until = Date.now() + 30_000;
    while (supervisor.pid(agent) === pid && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await supervisor.endpoint(agent);
    expect(supervisor.pid(agent)).not.toBe(pid);
    const replay = await send(payload, good);
    expect(replay.status).toBe(403);
    expect(replay.body.error).toMatch(/replayed/);

    // Every refusal is in the trail, as a deny of this agent for the token's tenant.
    const recorded = async () => {
      await procs.audit.flush();
      return (await queryAudit({ dir: procs.auditDir, kind: 'decision', tool: '(agent invocation)' })).filter(
        (r) => r.traceId === 'envelope-attacks',
      );
    };
    await expect.poll(async () => (await recorded()).length, { timeout: 10_000 }).toBe(refusals.length + 1);
    for (const r of await recorded())
      expect(r).toMatchObject({
        decision: 'deny',
        tenantId: 'acme',
        agentId: agent,
        principal: ORCHESTRATOR_PRINCIPAL,
        manifestDigest: digestOf(agent),
      });
    expect((await recorded()).flatMap((r) => (r.kind === 'decision' ? r.reasons : [])).join('\n')).toMatch(/replayed/);
  }, 120_000);

  it('fails the invocation with a clear error when an agent process is killed during node 4, restarts it, and resume awards without a duplicated bid', async () => {
    const supervisor = procs.stack.processes!.supervisor;
    const requisition = sampleRequisition('acme', 5);
    const id = requisition.negotiationId;
    const running = procs.stack.orchestrator.negotiate('acme', requisition).then(
      () => undefined,
      (err: Error) => err,
    );
    // Kill once node 4b has recorded a round of bids and is into the next one.
    const store = procs.stack.store;
    const until = Date.now() + 60_000;
    while (!(
      store.get('acme', id)?.nextNode === 'strategy' &&
      (store.toolColumns('acme', id)?.round ?? 0) >= 2 &&
      store.bidsOf('acme', id).length > 0
    )) {
      if (Date.now() > until) throw new Error('node 4 never got under way');
      await new Promise((r) => setTimeout(r, 20));
    }
    const pid = supervisor.pid('leverage-auction')!;
    process.kill(pid, 'SIGKILL');
    const err = await running;
    expect(err?.message).toMatch(new RegExp(`agent process leverage-auction \\(pid ${pid}\\) was killed by SIGKILL during the invocation`));
    const atCrash = store.get('acme', id)!;
    expect(atCrash.nextNode).toBe('strategy');

    await supervisor.endpoint('leverage-auction');
    expect(supervisor.pid('leverage-auction')).not.toBe(pid);
    expect(procs.warnings.join('\n')).toMatch(
      new RegExp(`agent process leverage-auction \\(pid ${pid}\\) was killed by SIGKILL; restarting \\(1/3\\)`),
    );

    const done = await procs.stack.orchestrator.run('acme', id);
    expect(done.status, done.reason ?? '').toBe('AWARDED');
    expect(done.history.filter((h) => h.node === 'strategy')).toHaveLength(1);
    const key = (b: { supplierId: string; round: number }) => `${b.supplierId}#${b.round}`;
    const ledger = store.bidsOf('acme', id);
    expect(new Set(ledger.map(key)).size).toBe(ledger.length);
    const issued = procs.world.network.bidsIssued().filter((b) => b.bidId.includes(id));
    expect(issued.map(key).sort()).toEqual(ledger.map(key).sort());
    const price = new Map(issued.map((b) => [key(b), b.priceCents]));
    for (const b of ledger) expect(b.priceCents).toBe(price.get(key(b)));
  }, 120_000);
});

describe('agent supervisor', () => {
  it('reports an agent process that dies before it is ready, naming the agent and its stderr', async () => {
    const supervisor = new AgentSupervisor({
      agents: ['broken-agent'],
      argv: () => [process.execPath, '-e', 'console.error("manifest not found"); process.exit(2)'],
    });
    await expect(supervisor.start()).rejects.toThrow(
      /agent process broken-agent exited with code 2 before it was ready; its stderr: manifest not found/,
    );
  });
});
