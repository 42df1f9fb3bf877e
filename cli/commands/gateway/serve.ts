import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BREAKERS, charterHome, FindingError, InputError } from '../../../common/index.js';
import { loadReleasedManifest, parseEnvironment, releaseContext, verifyReleasedManifestFile } from '../../../release-gates/index.js';
import { LocalKeySigner, loadPrivateKey } from '../../../signing/index.js';
import { EnforcementMode, openHomeAuditLog } from '../../../audit/index.js';
import {
  APPROVERS_FILE,
  BreakerFile,
  IdentityVerifier,
  KillSwitchFile,
  openDecisionPath,
  parseUpstreams,
  recordBreakerChanges,
  serveGatewayHttp,
  UpstreamPool,
} from '../../../gateway/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';

interface ServeOpts {
  env: string;
  manifest?: string[];
  trustedKeys: string;
  entities: string[];
  upstream: string[];
  jwks: string;
  issuer: string;
  audience: string;
  port: string;
  mode: string;
  auditDir?: string;
  auditKey?: string;
  auditOrigin: string;
  rate?: string;
  approvers?: string;
  json?: boolean;
}

/** `--approvers FILE`, else the home's approvers.yaml when there is one (else nobody may approve: the gateway refuses every approval). */
function approversOption(file: string | undefined): { approversFile?: string } {
  const inHome = join(charterHome(), APPROVERS_FILE);
  return file ? { approversFile: file } : existsSync(inHome) ? { approversFile: inHome } : {};
}

function positiveInt(value: string, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InputError(`${flag} must be an integer >= ${min}`, { field: flag });
  return n;
}

/**
 * Deploy, local runtime: the manifests the gateway may load are the current releases of their
 * agents in the environment (verified record chain). A named file that is not is refused.
 */
function releasedManifestFiles(env: string, files: string[] | undefined, trustedKeysFile: string): string[] {
  const opts = { trustedKeysFile };
  if (files) return files.map((f) => verifyReleasedManifestFile(env, f, opts).file);
  const ctx = releaseContext(opts);
  const agents = ctx.store.agents(parseEnvironment(env));
  if (agents.length === 0)
    throw new FindingError(
      `nothing is released to ${env}: the gateway loads only released manifests (charter release promote --env ${env} ...)`,
    );
  return agents.map((agent) => loadReleasedManifest(env, agent, opts).file);
}

export function registerServe(gateway: Command): void {
  withJson(
    gateway
      .command('serve')
      .description('serve MCP (Streamable HTTP) on loopback: list permitted tools, decide and record every call, forward what is allowed')
      .requiredOption('--env <env>', 'the environment it serves: it loads only manifests currently released there (dev, stg or prod)')
      .option(
        '--manifest <file...>',
        'signed agent manifests, each the current release of its agent in --env (default: every agent released there)',
      )
      .requiredOption('--trusted-keys <file>', 'trusted keys: manifest signers and approvers')
      .requiredOption(
        '--entities <file...>',
        'entities and tenant limits (fixtures.yaml shape; several files are merged); every tenant and agent states its kill switch',
      )
      .option(
        '--upstream <Namespace::tool=url...>',
        "upstream MCP tool server for a tool, bound to the domain's action (e.g. Procurement::get_bids=URL)",
        [],
      )
      .requiredOption('--jwks <url|file>', 'JWKS that signs caller tokens')
      .requiredOption('--issuer <iss>', 'expected token issuer')
      .requiredOption('--audience <aud>', 'expected token audience')
      .option('--port <port>', 'loopback port (0 = any free port)', '8931')
      .option('--mode <mode>', 'ENFORCE (default) or LOG_ONLY (decide and record, never block)', 'ENFORCE')
      .option('--audit-dir <dir>', 'audit state folder (default $CHARTER_HOME/audit; the sink is set in $CHARTER_HOME/config.yaml)')
      .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints (default $CHARTER_HOME/keys/audit.key.pem)')
      .option('--audit-origin <origin>', 'audit checkpoint origin', 'charter.local/audit')
      .option('--rate <perSecond>', 'per-tenant call rate limit (burst = 2 x rate)')
      .option(
        '--approvers <file>',
        'who may approve what: tenants, spend limit, roles (default $CHARTER_HOME/approvers.yaml; none: every approval is refused)',
      ),
  ).action(
    action(async (opts: ServeOpts) => {
      const mode = EnforcementMode.safeParse(opts.mode);
      if (!mode.success) throw new InputError(`--mode must be ENFORCE or LOG_ONLY, got '${opts.mode}'`, { field: '--mode' });
      const port = positiveInt(opts.port, '--port', 0);
      const rate = opts.rate !== undefined ? positiveInt(opts.rate, '--rate') : undefined;
      const files = releasedManifestFiles(opts.env, opts.manifest, opts.trustedKeys);
      const upstreams = new UpstreamPool(parseUpstreams(opts.upstream));
      const verifier = IdentityVerifier.fromConfig({ jwks: opts.jwks, issuer: opts.issuer, audience: opts.audience });
      const signer = new LocalKeySigner(loadPrivateKey(opts.auditKey ?? join(charterHome(), 'keys', 'audit.key.pem')));
      const audit = await openHomeAuditLog({ home: charterHome(), dir: opts.auditDir, signer, origin: opts.auditOrigin });
      const stopRecording = recordBreakerChanges(BREAKERS, {
        audit,
        file: BreakerFile.inHome(charterHome()),
        warn: (m) => process.stderr.write(`charter: warning: ${m}\n`),
      });
      try {
        const path = openDecisionPath({
          manifestFiles: files,
          trustedKeysFile: opts.trustedKeys,
          entitiesFile: opts.entities,
          ...approversOption(opts.approvers),
          audit,
          killSwitches: KillSwitchFile.inHome(charterHome()),
          mode: mode.data,
          ...(rate ? { rateLimit: { perSecond: rate, burst: 2 * rate } } : {}),
        });
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        const http = await serveGatewayHttp(path, upstreams, verifier, port);
        if (opts.json) printJson({ ok: true, url: http.url, mode: path.mode, environment: opts.env, manifests: files.length });
        else
          printLine(
            `gateway listening on ${http.url} (${path.mode}, ${files.length} manifest(s) released to ${opts.env}); Ctrl-C stops it`,
          );
        await stopped;
        await http.close();
      } finally {
        await upstreams.close();
        stopRecording();
        await audit.close();
      }
    }),
  );
}
