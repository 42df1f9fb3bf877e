import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import {
  AGENT_IDENTITY,
  AGENT_NAMES,
  INVOCATION_ENVELOPE,
  InvocationGate,
  serveAgentHost,
  StaticConfigStore,
} from '../../../agents/index.js';
import { charterHome, FindingError, InputError } from '../../../common/index.js';
import { IdentityVerifier, NonceStore } from '../../../gateway/index.js';
import { loadTrustedKeys } from '../../../signing/index.js';
import { loadVerifiedManifest, type VerifiedManifest } from '../../../policy-packs/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';

interface ServeOpts {
  agent: string;
  gatewayUrl: string;
  host: string;
  port: string;
  tenant?: string;
  toolTimeoutMs: string;
  home?: string;
  env?: string;
  manifest?: string;
  trustedKeys?: string;
  config?: string;
  supervised?: boolean;
  json?: boolean;
}

const ServeFlags = z.object({
  gatewayUrl: z.string().url('--gateway-url must be a URL (the gateway MCP endpoint, e.g. http://127.0.0.1:8931/mcp)'),
  host: z.union([z.literal('127.0.0.1'), z.literal('0.0.0.0'), z.literal('::1'), z.literal('::')], {
    message: '--host must be 127.0.0.1 or ::1 (loopback), or 0.0.0.0 or :: (all interfaces, as in the runtime image)',
  }),
  port: z.coerce.number().int('--port must be an integer').min(0, '--port must be 0-65535').max(65535, '--port must be 0-65535'),
  toolTimeoutMs: z.coerce.number().int('--tool-timeout-ms must be an integer').positive('--tool-timeout-ms must be positive'),
});

/** The agent's verified manifest: the release in --env (checked against --manifest if both), else the --manifest file. */
async function agentManifest(opts: ServeOpts, home: string): Promise<VerifiedManifest> {
  const trustedKeysFile = opts.trustedKeys ?? join(home, 'keys', 'trusted-keys.json');
  let manifest: VerifiedManifest;
  let recordDigest: string | undefined;
  if (opts.env) {
    // Loaded only here: a supervised process, handed its manifest, does not pay for the release modules.
    const { loadReleasedManifest, verifyReleasedManifestFile } = await import('../../../release-gates/index.js');
    const released = opts.manifest
      ? verifyReleasedManifestFile(opts.env, opts.manifest, { home, trustedKeysFile })
      : loadReleasedManifest(opts.env, opts.agent, { home, trustedKeysFile });
    manifest = released;
    recordDigest = released.record.digest;
  } else if (opts.manifest) {
    manifest = loadVerifiedManifest(opts.manifest, trustedKeysFile);
  } else {
    throw new InputError('give --env (serve the released manifest) or --manifest FILE', { field: '--env' });
  }
  if (manifest.manifest.agent.name !== opts.agent)
    throw new FindingError(
      `${opts.manifest ?? 'the release'} is the manifest of agent '${manifest.manifest.agent.name}', not '${opts.agent}'`,
    );
  // Deploy pins a runtime to one release through its environment: serve nothing else.
  const pinned = process.env.CHARTER_MANIFEST_DIGEST;
  if (pinned && pinned !== manifest.digest)
    throw new FindingError(`CHARTER_MANIFEST_DIGEST is ${pinned}, but the manifest to serve is ${manifest.digest}`);
  const record = process.env.CHARTER_RELEASE_RECORD_DIGEST;
  if (record && record !== recordDigest)
    throw new FindingError(
      `CHARTER_RELEASE_RECORD_DIGEST is ${record}, but the current release record of ${opts.agent} in ${opts.env ?? '(no --env)'} is ${recordDigest ?? 'not loaded'}`,
    );
  return manifest;
}

export function registerServe(agents: Command): void {
  withJson(
    agents
      .command('serve')
      .description(
        "serve one agent behind the AgentCore Runtime contract (POST /invocations, GET /ping); each invocation must carry the platform's identity token, and the agent's tool calls go to the gateway over MCP with it",
      )
      .addOption(new Option('--agent <name>', `the agent (${AGENT_NAMES.join(', ')})`).env('CHARTER_AGENT').makeOptionMandatory())
      .addOption(
        new Option('--gateway-url <url>', 'the gateway MCP endpoint (Streamable HTTP)').env('CHARTER_GATEWAY_URL').makeOptionMandatory(),
      )
      .option('--host <address>', 'address to listen on: loopback, or 0.0.0.0 in the runtime image', '127.0.0.1')
      .option('--port <port>', 'port (0 = any free port; the runtime image serves 8080)', '0')
      .addOption(new Option('--tenant <id>', 'serve this tenant only (a silo runtime)').env('CHARTER_TENANT'))
      .option(
        '--tool-timeout-ms <ms>',
        "how long one gateway tool call may take; set it above the gateway's upstream timeout (a supervisor passes the gateway's own)",
        '60000',
      )
      .addOption(
        new Option('--env <env>', "serve the agent's manifest currently released there (dev, stg or prod)").env('CHARTER_ENVIRONMENT'),
      )
      .option(
        '--manifest <file>',
        "the agent's signed manifest; with --env it must be the current release there (a supervisor hands over the gateway's own)",
      )
      .option('--trusted-keys <file>', 'keys trusted for manifests (default <home>/keys/trusted-keys.json)')
      .option('--config <file>', 'tenant configuration YAML (default <home>/tenants.yaml when present, else the built-in defaults)')
      .option('--supervised', 'also stop when stdin closes (the supervising process died)')
      .addHelpText(
        'after',
        `
In the runtime image (Dockerfile) deploy's environment configures it: CHARTER_AGENT, CHARTER_ENVIRONMENT,
CHARTER_GATEWAY_URL and CHARTER_TENANT stand for the flags; CHARTER_MANIFEST_DIGEST and
CHARTER_RELEASE_RECORD_DIGEST must name the release served.

Examples:
  charter agents serve --agent kraljic-classifier --env prod --gateway-url http://127.0.0.1:8931/mcp
  CHARTER_AGENT=kraljic-classifier CHARTER_ENVIRONMENT=prod CHARTER_GATEWAY_URL=https://gw.example.com/mcp charter agents serve --host 0.0.0.0 --port 8080`,
      ),
  ).action(
    action(async (opts: ServeOpts) => {
      if (!(AGENT_NAMES as readonly string[]).includes(opts.agent))
        throw new InputError(`unknown agent '${opts.agent}' (one of ${AGENT_NAMES.join(', ')})`, { field: '--agent' });
      const flags = ServeFlags.safeParse(opts);
      if (!flags.success)
        throw new InputError(flags.error.issues[0]!.message, {
          field: `--${String(flags.error.issues[0]!.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        });
      const home = opts.home ?? charterHome();
      const manifest = await agentManifest(opts, home);
      const jwks = AGENT_IDENTITY.jwksFile(home);
      if (!existsSync(jwks))
        throw new InputError(
          'no agent identity JWKS in the Charter home: the orchestrator writes it when it starts agent processes (charter negotiations run --agent-processes)',
          { file: jwks },
        );
      const nonces = NonceStore.open(INVOCATION_ENVELOPE.nonceFile(home));
      const envelopes = new InvocationGate({
        agent: opts.agent,
        manifestDigest: manifest.digest,
        trustedKeys: loadTrustedKeys(opts.trustedKeys ?? join(home, 'keys', 'trusted-keys.json')),
        nonces,
        // A supervisor reads our stdout and appends these to the audit trail (it holds the log);
        // unsupervised, they are reported on stderr only.
        refused: (record) => {
          if (opts.supervised) process.stdout.write(`${INVOCATION_ENVELOPE.recordPrefix}${JSON.stringify(record)}\n`);
          else process.stderr.write(`charter: warning: invocation refused: ${record.reasons.join('; ')}\n`);
        },
      });
      const configFile = opts.config ?? join(home, 'tenants.yaml');
      const config = opts.config || existsSync(configFile) ? StaticConfigStore.fromFile(configFile) : StaticConfigStore.of({});
      const server = await serveAgentHost({
        agent: opts.agent,
        gatewayUrl: flags.data.gatewayUrl,
        manifest,
        config,
        identity: IdentityVerifier.fromConfig(AGENT_IDENTITY.config(home)),
        envelopes,
        // One model client for the process (endpoint and credentials from the AWS settings).
        models: { bedrock: new BedrockRuntimeClient({}) },
        warn: (m) => process.stderr.write(`charter: warning: ${m}\n`),
        host: flags.data.host,
        port: flags.data.port,
        ...(opts.tenant ? { tenant: opts.tenant } : {}),
        toolTimeoutMs: flags.data.toolTimeoutMs,
      });
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve).once('SIGINT', resolve);
        // A supervisor holds our stdin open; if it is killed (-9 included) the pipe closes and we stop, never orphaned.
        if (opts.supervised) process.stdin.once('end', resolve).once('close', resolve).resume();
      });
      // The URL line is what a supervisor waits for (then it checks /ping).
      if (opts.json) printJson({ ok: true, agent: opts.agent, url: server.url, manifestDigest: manifest.digest, pid: process.pid });
      else printLine(server.url);
      await stopped;
      await server.close();
      nonces.close();
      return 0;
    }),
  );
}
