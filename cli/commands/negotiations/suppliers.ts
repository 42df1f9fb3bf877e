import type { Command } from 'commander';
import { z } from 'zod';
import { referenceWorld } from '../../../orchestrator/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';

export function registerSuppliers(cmd: Command): void {
  withJson(
    cmd.command('suppliers').description('serve simulated suppliers of the given tenants over MCP until interrupted (prints the URL)'),
  )
    .requiredOption('--tenants <ids>', 'comma-separated tenant ids')
    .option('--latency <ms>', 'quote latency of every supplier', '20')
    .option('--per-tenant <n>', 'suppliers per tenant', '8')
    .option('--port <port>', 'port (default: any free port)', '0')
    .action(
      action(async (opts: { tenants: string; latency: string; perTenant: string; port: string; json?: boolean }) => {
        const n = z
          .object({
            latency: z.coerce.number().int().nonnegative(),
            perTenant: z.coerce.number().int().min(1).max(500),
            port: z.coerce.number().int().min(0).max(65535),
          })
          .parse(opts);
        const world = referenceWorld({ tenants: opts.tenants.split(','), latencyMs: n.latency, suppliersPerTenant: n.perTenant });
        const server = await world.network.serve(n.port);
        if (opts.json) printJson({ ok: true, url: server.url });
        else printLine(server.url);
        await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
        await server.close();
      }),
    );
}
