import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { charterHome, InputError } from '../../../common/index.js';
import {
  COST_DIMENSIONS,
  costReport,
  formatMoney,
  loadPriceTable,
  NegotiationStore,
  type CostDimension,
  type CostLine,
} from '../../../orchestrator/index.js';
import { printJson, printLine, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';

interface CostsFlags {
  home?: string;
  tenant?: string;
  month?: string;
  by?: string;
  json?: boolean;
}

function dimensions(by: string | undefined): CostDimension[] {
  if (!by) return [];
  const names = by.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(COST_DIMENSIONS as readonly string[]).includes(n));
  if (unknown.length)
    throw new InputError(`--by takes ${COST_DIMENSIONS.join(', ')} (comma-separated), got '${unknown.join(', ')}'`, { field: '--by' });
  return names as CostDimension[];
}

const COUNTS = ['invocations', 'model calls', 'tokens in', 'tokens out', 'tool calls', 'cost', 'unpriced calls'];
const counts = (l: CostLine) => [
  l.invocations,
  l.modelCalls,
  l.inputTokens,
  l.outputTokens,
  l.toolCalls,
  formatMoney(l.costMicros),
  l.unpricedModelCalls,
];

export function registerCosts(cmd: Command): void {
  withJson(
    cmd
      .command('costs')
      .description(
        "cost in money per tenant, agent, model, negotiation and month: model tokens at the home's prices.yaml, the orchestrator's monthly cost prorated by steps",
      )
      .option('--tenant <id>', 'only this tenant (the orchestrator share is still prorated over every tenant of the month)')
      .option('--month <YYYY-MM>', 'only usage booked in this UTC month')
      .option('--by <dimensions>', `group by ${COST_DIMENSIONS.join(', ')} (comma-separated); default: every booked row`)
      .addHelpText(
        'after',
        '\nExamples:\n  $ charter negotiations costs --by tenant --month 2026-11\n  $ charter negotiations costs --tenant acme --by agent,model --json',
      ),
  ).action(
    action((opts: CostsFlags) => {
      const by = dimensions(opts.by);
      if (opts.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month))
        throw new InputError(`--month is YYYY-MM, got '${opts.month}'`, { field: '--month' });
      const home = opts.home ?? charterHome();
      const dbFile = join(home, 'orchestrator', 'negotiations.sqlite');
      if (!existsSync(dbFile))
        throw new InputError('no negotiations were run in this home yet (charter negotiations run --tenant T)', { file: dbFile });
      const prices = loadPriceTable(home);
      const store = new NegotiationStore(dbFile);
      try {
        const report = costReport(store, prices, {
          by,
          ...(opts.month ? { month: opts.month } : {}),
          ...(opts.tenant ? { tenantId: opts.tenant } : {}),
        });
        if (opts.json) {
          printJson({ ok: true, ...report });
          return 0;
        }
        const head = by.length ? by : COST_DIMENSIONS;
        printTable(
          [...head, ...COUNTS],
          [...report.lines, { ...report.total, key: { [head[0]!]: 'total' } }].map((l) => [
            ...head.map((d) => l.key[d] ?? ''),
            ...counts(l),
          ]),
        );
        printLine(
          report.currency
            ? `amounts in ${report.currency}, prices valid from ${report.pricesValidFrom}`
            : 'no prices.yaml in the home: usage is counted, not priced',
        );
        return 0;
      } finally {
        store.close();
      }
    }),
  );
}
