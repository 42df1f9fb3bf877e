import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { queryAudit, type AuditQuery, type SealedRecord } from '../../../audit/index.js';
import { InputError } from '../../../common/index.js';
import { printJson, printTable } from '../../output.js';
import { action, withJson } from '../../program.js';
import { positiveInt, store, withStore, type StoreOptions } from './shared.js';

const COLUMNS = ['time', 'seq', 'kind', 'tenant', 'agent', 'tool', 'tier', 'decision', 'trace', 'id'];
const row = (r: SealedRecord): Array<string | number | null> =>
  r.kind === 'decision'
    ? [r.time, r.seq, r.kind, r.tenantId, r.agentId, r.tool, r.tier, r.decision, r.traceId, r.id]
    : [r.time, r.seq, `evidence:${r.evidenceType}`, r.tenantId, null, null, null, null, r.traceId, r.id];

const FILTERS = ['tenant', 'agent', 'tool', 'decision', 'tier', 'kind', 'traceId', 'manifestDigest', 'from', 'to'] as const;

function filterFrom(opts: AuditQuery): AuditQuery {
  if (opts.decision && !['allow', 'deny'].includes(opts.decision))
    throw new InputError(`--decision must be allow or deny`, { field: '--decision' });
  if (opts.kind && !['decision', 'evidence'].includes(opts.kind))
    throw new InputError(`--kind must be decision or evidence`, { field: '--kind' });
  const filter: AuditQuery = {};
  for (const k of FILTERS) if (opts[k] !== undefined) Object.assign(filter, { [k]: opts[k] });
  return filter;
}

export function registerQuery(audit: Command): void {
  withJson(
    withStore(
      audit
        .command('query')
        .description('records matching all filters, in time order, from the index (synced from the segments first)')
        .option('--tenant <id>')
        .option('--agent <name>')
        .option('--tool <name>')
        .option('--decision <allow|deny>')
        .option('--tier <tier>')
        .option('--kind <decision|evidence>')
        .option('--trace-id <id>')
        .option('--manifest-digest <sha256:...>')
        .option('--from <time>', 'inclusive, ISO-8601')
        .option('--to <time>', 'exclusive, ISO-8601')
        .option('--limit <n>', 'at most this many records', '1000')
        .option('--format <format>', 'table | json | csv', 'table'),
    ),
  ).action(
    action(async (opts: StoreOptions & AuditQuery & { limit: string; format: string; json?: boolean }) => {
      const format = opts.json ? 'json' : opts.format;
      if (!['table', 'json', 'csv'].includes(format))
        throw new InputError(`unknown format '${format}' (table, json, csv)`, { field: '--format' });
      const records = await queryAudit({ ...store(opts), ...filterFrom(opts), limit: positiveInt(opts.limit, '--limit')! });
      if (format === 'json') printJson(records);
      else if (format === 'csv') process.stdout.write(stringify([COLUMNS, ...records.map(row)]));
      else printTable(COLUMNS, records.map(row));
    }),
  );
}
