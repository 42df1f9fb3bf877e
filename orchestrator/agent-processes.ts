import { join } from 'node:path';
import { AGENT_IDENTITY, AGENT_NAMES } from '../agents/index.js';
import { contentPath, writeFileAtomic } from '../common/index.js';
import {
  IdentityVerifier,
  serveGatewayHttp,
  type DecisionPath,
  type DecisionPathOptions,
  type DecisionSink,
  type UpstreamPool,
} from '../gateway/index.js';
import { DecisionRecord } from '../audit/index.js';
import type { Signer, TrustedKeysFile } from '../signing/index.js';
import { AgentIdentityIssuer } from './agent-identity.js';
import { AgentSupervisor } from './agent-supervisor.js';
import { InvocationCredentials } from './invocation-credentials.js';
import { ProcessAgents } from './process-agents.js';

export interface AgentProcessOptions {
  /** Charter home: the identity key and its JWKS (`keys/`), and the run folder of the agent processes. */
  home: string;
  /** How to run `charter` (default: this Node on the package's dist/cli/main.js). */
  charter?: string[];
  readyTimeoutMs?: number;
  maxRestarts?: number;
  warn?: (message: string) => void;
}

/** What the agent processes need of the orchestrator beside the gateway: its envelope key and the audit log for their refusals. */
export interface AgentProcessTrust {
  trustedKeys: TrustedKeysFile;
  /** The orchestrator's agent-envelope key (INVOCATION_ENVELOPE.sender). */
  envelopes: Signer;
  audit: DecisionSink;
}

export interface AgentProcesses {
  dispatcher: ProcessAgents;
  supervisor: AgentSupervisor;
  identity: AgentIdentityIssuer;
  /** The gateway's MCP endpoint the agent processes call. */
  gatewayUrl: string;
  close(): Promise<void>;
}

/**
 * Serves the gateway over Streamable HTTP (bearer tokens verified against the home's agent
 * identity JWKS) and starts the eight agents as `charter agents serve` processes. Each process
 * gets the exact manifest envelope and trusted keys the gateway uses, written to
 * `<home>/orchestrator/agent-processes/`, and verifies them itself before serving.
 */
export async function startAgentProcesses(
  path: DecisionPath,
  upstreams: UpstreamPool,
  manifests: DecisionPathOptions['manifests'],
  { trustedKeys, envelopes, audit }: AgentProcessTrust,
  opts: AgentProcessOptions,
): Promise<AgentProcesses> {
  const identity = await AgentIdentityIssuer.open(opts.home);
  const gateway = await serveGatewayHttp(path, upstreams, IdentityVerifier.fromConfig(AGENT_IDENTITY.config(opts.home)));
  const runDir = join(opts.home, 'orchestrator', 'agent-processes');
  const trustedFile = join(runDir, 'trusted-keys.json');
  writeFileAtomic(trustedFile, JSON.stringify(trustedKeys, null, 2) + '\n');
  const digests = new Map<string, string>();
  for (const m of manifests) {
    digests.set(m.manifest.agent.name, m.digest);
    writeFileAtomic(join(runDir, `${m.manifest.agent.name}.manifest.json`), JSON.stringify(m.envelope, null, 2) + '\n');
  }
  const charter = opts.charter ?? [process.execPath, contentPath('dist', 'cli', 'main.js')];
  const supervisor = new AgentSupervisor({
    agents: AGENT_NAMES.filter((a) => digests.has(a)),
    argv: (agent) => [
      ...charter,
      'agents',
      'serve',
      '--agent',
      agent,
      '--gateway-url',
      gateway.url,
      '--home',
      opts.home,
      '--manifest',
      join(runDir, `${agent}.manifest.json`),
      '--trusted-keys',
      trustedFile,
      '--tool-timeout-ms',
      String(upstreams.callerTimeoutMs),
      '--supervised',
    ],
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    ...(opts.maxRestarts !== undefined ? { maxRestarts: opts.maxRestarts } : {}),
    ...(opts.warn ? { warn: opts.warn } : {}),
    onRecord: (agent, record) => {
      // A process speaks only for itself, and only to refuse.
      const parsed = DecisionRecord.safeParse(record);
      if (!parsed.success || parsed.data.agentId !== agent || parsed.data.decision !== 'deny') {
        opts.warn?.(`agent process ${agent} printed a record that is not a refusal of its own; not recorded`);
        return;
      }
      audit
        .append(parsed.data)
        .catch((err: unknown) => opts.warn?.(`recording a refusal of agent process ${agent} failed: ${String(err)}`));
    },
  });
  try {
    await supervisor.start();
  } catch (err) {
    await gateway.close();
    throw err;
  }
  return {
    dispatcher: new ProcessAgents(supervisor, new InvocationCredentials(identity, digests, envelopes)),
    supervisor,
    identity,
    gatewayUrl: gateway.url,
    async close() {
      await supervisor.close();
      await gateway.close();
    },
  };
}
