import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import Fastify, { type FastifyReply } from 'fastify';
import { z } from 'zod';
import { StaticConfigStore } from '../../../agents/index.js';
import { charterHome, CharterError, errorMessage, InputError } from '../../../common/index.js';
import {
  AdmissionDenied,
  commandReminder,
  NegotiationRuntime,
  webhookReminder,
  type ApprovalReminder,
} from '../../../orchestrator/index.js';
import { printJson, printLine } from '../../output.js';
import { action } from '../../program.js';
import { withExamples } from '../packs/shared.js';
import { AGENT_PROCESSES_HELP, onHome, withWorldFlags, worldOf, type HomeFlags } from './shared.js';

type ServeFlags = Omit<HomeFlags, 'tenant'> & {
  tenants?: string;
  host: string;
  port: string;
  leaseSeconds: string;
  pollSeconds: string;
  remindWebhook?: string;
  remindCommand?: string;
};

const Numbers = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  leaseSeconds: z.coerce.number().positive(),
  pollSeconds: z.coerce.number().positive(),
  remindWebhook: z.string().url().optional(),
});

/** The served tenants: --tenants, else every tenant of the home's tenants.yaml. */
function servedTenants(opts: ServeFlags): string[] {
  if (opts.tenants) return opts.tenants.split(',').map((t) => t.trim());
  const file = join(opts.home ?? charterHome(), 'tenants.yaml');
  const tenants = existsSync(file) ? StaticConfigStore.fromFile(file).tenants() : [];
  if (!tenants.length) throw new InputError(`give --tenants: ${file} names no tenant`, { field: '--tenants' });
  return tenants;
}

/** The one error shape of the API (the CLI's --json error without the exit code). */
function fail(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ ok: false, error: { code, message } });
}

export function registerServe(cmd: Command): void {
  const serve = withWorldFlags(
    cmd
      .command('serve')
      .description(
        'take negotiations over HTTP (202 + Location, 429 + Retry-After), run them, fire approval deadlines and reminders, reclaim dead runners (prints the URL)',
      ),
  )
    .option('--tenants <ids>', "comma-separated tenants served (default: the tenants of the home's tenants.yaml)")
    .option('--host <host>', 'address to listen on (the API has no authentication of its own: keep it on loopback)', '127.0.0.1')
    .option('--port <port>', 'port (default: any free port)', '0')
    .option('--lease-seconds <s>', 'lease of a running negotiation without a heartbeat, before another runner takes it over', '30')
    .option('--poll-seconds <s>', 'longest wait between two looks at the store for deadlines, decisions and expired leases', '5')
    .option('--remind-webhook <url>', 'POST each approval reminder (JSON) to this URL')
    .option('--remind-command <cmd>', 'run this shell command for each approval reminder (JSON on stdin, CHARTER_* variables)')
    .option('--agent-processes', AGENT_PROCESSES_HELP);
  withExamples(serve, [
    'charter negotiations serve --tenants acme,globex --port 8480',
    'curl -si -X POST localhost:8480/v1/tenants/acme/negotiations -H content-type:application/json -d @requisition.json',
    'charter negotiations serve --remind-webhook https://hooks.example.com/approvals --lease-seconds 15',
  ]).action(
    action(async (opts: ServeFlags) => {
      const n = Numbers.safeParse(opts);
      if (!n.success) throw new InputError(n.error.issues[0]!.message, { field: `--${String(n.error.issues[0]!.path[0])}` });
      const tenants = servedTenants(opts);
      const world = worldOf(tenants, opts);
      const hooks: Array<(r: ApprovalReminder) => Promise<void>> = [];
      if (opts.remindWebhook) hooks.push(webhookReminder(opts.remindWebhook));
      if (opts.remindCommand) hooks.push(commandReminder(opts.remindCommand));
      return onHome(
        opts,
        async (h) => {
          const runtime = new NegotiationRuntime({
            orchestrator: h.stack.orchestrator,
            store: h.stack.runnerStore,
            approvals: h.approvals,
            leaseMs: n.data.leaseSeconds * 1000,
            pollMs: n.data.pollSeconds * 1000,
            onReminder: async (r) => {
              for (const hook of hooks) await hook(r);
            },
            log: (m) => process.stderr.write(`charter: ${m}\n`),
          });
          const app = Fastify({ logger: false });
          const location = (tenant: string, id: string) => `/v1/tenants/${tenant}/negotiations/${encodeURIComponent(id)}`;
          app.post<{ Params: { tenant: string } }>('/v1/tenants/:tenant/negotiations', async (req, reply) => {
            const { tenant } = req.params;
            if (!tenants.includes(tenant)) return fail(reply, 404, 'UNKNOWN_TENANT', `tenant '${tenant}' is not served here`);
            try {
              const state = await runtime.submit(tenant, req.body);
              const where = location(tenant, state.negotiationId);
              return reply
                .code(202)
                .header('location', where)
                .send({ ok: true, negotiationId: state.negotiationId, status: state.status, location: where });
            } catch (err) {
              if (err instanceof AdmissionDenied)
                return reply
                  .code(429)
                  .header('retry-after', String(err.retryAfterSeconds))
                  .send({ ok: false, error: { code: 'ADMISSION_DENIED', message: err.message } });
              if (err instanceof CharterError && err.exitCode === 2) return fail(reply, 400, err.code, err.message);
              throw err;
            }
          });
          app.get<{ Params: { tenant: string; id: string } }>('/v1/tenants/:tenant/negotiations/:id', async (req, reply) => {
            const { tenant, id } = req.params;
            const state = tenants.includes(tenant) ? await h.stack.runnerStore.get(tenant, id) : undefined;
            if (!state) return fail(reply, 404, 'NOT_FOUND', `no negotiation '${id}' of tenant '${tenant}'`);
            const error = runtime.failure(tenant, id);
            return reply.send({ ok: true, running: runtime.isRunning(tenant, id), ...(error ? { error } : {}), negotiation: state });
          });
          app.setErrorHandler((err: { statusCode?: number; code?: string }, _req, reply) =>
            fail(reply, err.statusCode ?? 500, err.code ?? 'INTERNAL', errorMessage(err)),
          );
          const url = await app.listen({ host: opts.host, port: n.data.port });
          runtime.start();
          if (opts.json) printJson({ ok: true, url, tenants });
          else printLine(url);
          await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
          // Stop taking work, let the runs in flight reach their next stop, then close the home.
          await app.close();
          await runtime.stop();
          return 0;
        },
        world,
      );
    }),
  );
}
