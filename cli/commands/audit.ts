import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import {
  appendMany,
  AuditRecord,
  auditRecordJsonSchema,
  exportEvidenceBundle,
  openAuditLog,
  proveInclusion,
  queryAudit,
  rebuildIndex,
  sinkFromUri,
  verifyAuditLog,
  verifyEvidenceBundle,
  verifyInclusionProof,
  type AuditQuery,
  type SealedRecord,
  type SegmentSink,
} from '../../audit/index.js';
import { charterHome, ExitCode, InputError, parseJson, readText, validateWith, writeFileAtomic } from '../../common/index.js';
import { loadSigner, loadTrustedKeys, LocalKeySigner } from '../../signing/index.js';
import { printJson, printLine, printTable } from '../output.js';
import { action, withJson } from '../program.js';

interface StoreOptions {
  dir?: string;
  sink?: string;
  s3Endpoint?: string;
  retentionDays?: string;
}

const defaultDir = (): string => join(charterHome(), 'audit');
const defaultTrustedKeys = (): string => join(charterHome(), 'keys', 'trusted-keys.json');

function positiveInt(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new InputError(`expected a positive integer, got '${value}'`, { field });
  return Number(value);
}

function store(opts: StoreOptions): { dir: string; sink?: SegmentSink } {
  const dir = opts.dir ?? defaultDir();
  if (!opts.sink) return { dir };
  const retentionDays = positiveInt(opts.retentionDays, '--retention-days');
  return {
    dir,
    sink: sinkFromUri(opts.sink, {
      ...(retentionDays ? { retentionDays } : {}),
      ...(opts.s3Endpoint ? { endpoint: opts.s3Endpoint } : {}),
    }),
  };
}

function withStore(cmd: Command): Command {
  return cmd
    .option('--dir <dir>', 'local audit state (WAL, index; segments with the default sink)', undefined)
    .option('--sink <uri>', 'where segments are: s3://bucket/prefix or a directory (default: --dir)', undefined)
    .option('--s3-endpoint <url>', 'S3 endpoint (default: AWS settings, e.g. AWS_ENDPOINT_URL_S3)', undefined);
}

const COLUMNS = ['time', 'seq', 'kind', 'tenant', 'agent', 'tool', 'tier', 'decision', 'trace', 'id'];
const row = (r: SealedRecord): Array<string | number | null> =>
  r.kind === 'decision'
    ? [r.time, r.seq, r.kind, r.tenantId, r.agentId, r.tool, r.tier, r.decision, r.traceId, r.id]
    : [r.time, r.seq, `evidence:${r.evidenceType}`, r.tenantId, null, null, null, null, r.traceId, r.id];

async function* jsonLines(file: string | undefined): AsyncGenerator<{ text: string; line: number }> {
  const input = file ? createReadStream(file) : process.stdin;
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() !== '') yield { text, line };
  }
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit trail: append, query, verify, prove, export');

  withJson(
    withStore(
      audit
        .command('append')
        .description('append audit records (JSON lines from FILE or stdin); prints {"id","seq"} per acknowledged record')
        .argument('[file]', 'JSONL file of audit records (default stdin)')
        .option('--key <ref>', 'audit-checkpoint signing key (Ed25519 PEM file)', undefined)
        .option('--origin <origin>', 'checkpoint origin line', 'charter.local/audit')
        .option('--retention-days <n>', 'S3 Object Lock retention the bucket must enforce', '365')
        .option('--seal-every-records <n>', 'seal after this many records', '10000')
        .option('--seal-every-ms <n>', 'seal at least this often', '1000')
        .option('--in-flight <n>', 'records appended concurrently (group commit)', '256'),
    ),
  ).action(
    action(
      async (
        file: string | undefined,
        opts: StoreOptions & { key?: string; origin: string; sealEveryRecords: string; sealEveryMs: string; inFlight: string },
      ) => {
        if (file) readText(file);
        const signer = await loadSigner(opts.key ?? join(charterHome(), 'keys', 'audit.key.pem'));
        if (!(signer instanceof LocalKeySigner))
          throw new InputError('audit checkpoints need a local Ed25519 key file', { field: '--key' });
        const inFlight = positiveInt(opts.inFlight, '--in-flight')!;
        // All of the input is checked before the first append: a bad line appends nothing.
        const where = file ?? 'stdin';
        const records: AuditRecord[] = [];
        for await (const { text, line } of jsonLines(file))
          records.push(validateWith(AuditRecord, parseJson(text, `${where}:${line}`), where, () => line));
        const log = await openAuditLog({
          ...store(opts),
          signer,
          origin: opts.origin,
          sealEveryRecords: positiveInt(opts.sealEveryRecords, '--seal-every-records')!,
          sealEveryMs: positiveInt(opts.sealEveryMs, '--seal-every-ms')!,
        });
        let appended: number;
        try {
          appended = await appendMany(log, records, {
            inFlight,
            onAck: (record, seq) => process.stdout.write(`${JSON.stringify({ id: record.id, seq })}\n`),
          });
        } finally {
          await log.close();
        }
        process.stderr.write(`charter: ${appended} record(s) acknowledged, log size ${log.size}\n`);
      },
    ),
  );

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
      if (opts.decision && !['allow', 'deny'].includes(opts.decision))
        throw new InputError(`--decision must be allow or deny`, { field: '--decision' });
      if (opts.kind && !['decision', 'evidence'].includes(opts.kind))
        throw new InputError(`--kind must be decision or evidence`, { field: '--kind' });
      const filter: AuditQuery = {};
      for (const k of ['tenant', 'agent', 'tool', 'decision', 'tier', 'kind', 'traceId', 'manifestDigest', 'from', 'to'] as const) {
        if (opts[k] !== undefined) Object.assign(filter, { [k]: opts[k] });
      }
      const records = await queryAudit({ ...store(opts), ...filter, limit: positiveInt(opts.limit, '--limit')! });
      if (format === 'json') printJson(records);
      else if (format === 'csv') process.stdout.write(stringify([COLUMNS, ...records.map(row)]));
      else printTable(COLUMNS, records.map(row));
    }),
  );

  withJson(
    withStore(
      audit
        .command('verify')
        .description(
          'verify the whole log (hash chain, Merkle roots, signed checkpoints, consistency, seq gaps), or an evidence bundle offline',
        )
        .option(
          '--trusted-keys <file>',
          'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json; for --bundle default: the keys in the bundle)',
        )
        .option('--bundle <file>', 'verify an exported evidence bundle instead of the log')
        .option('--anchor <file>', 'a checkpoint saved earlier that the log must still contain (detects truncation)'),
    ),
  ).action(
    action(async (opts: StoreOptions & { trustedKeys?: string; bundle?: string; anchor?: string; json?: boolean }) => {
      if (opts.bundle) {
        const trusted = opts.trustedKeys ? loadTrustedKeys(opts.trustedKeys) : undefined;
        const report = verifyEvidenceBundle(parseJson(readText(opts.bundle), opts.bundle), trusted, opts.bundle);
        if (opts.json) printJson(report);
        else {
          printLine(
            `${report.ok ? 'OK' : 'FAILED'}: ${report.records} record(s) of ${report.origin} proven against tree size ${report.treeSize}, signed by ${report.signedBy.join(', ')}${trusted ? '' : ' (key from the bundle: check its key id out of band)'}`,
          );
          for (const f of report.findings) printLine(`  - ${f}`);
        }
        return report.ok ? ExitCode.ok : ExitCode.findings;
      }
      const trustedKeys = loadTrustedKeys(opts.trustedKeys ?? defaultTrustedKeys());
      const { dir, sink } = store(opts);
      const report = await verifyAuditLog({
        sink: sink ?? sinkFromUri(dir),
        trustedKeys,
        stateDir: dir,
        ...(opts.anchor ? { anchor: readText(opts.anchor) } : {}),
      });
      if (opts.json) printJson(report);
      else {
        printLine(
          `${report.ok ? 'OK' : 'FAILED'}: ${report.location}: ${report.records} record(s) in ${report.segments} segment(s), tree size ${report.treeSize}, ${report.checkpoints} checkpoint(s) signed by ${report.signedBy.join(', ') || 'nobody trusted'} (${report.elapsedMs} ms)`,
        );
        for (const f of report.findings) printLine(`  - [${f.kind}] ${f.message}`);
        for (const w of report.warnings) printLine(`  ! ${w}`);
      }
      return report.ok ? ExitCode.ok : ExitCode.findings;
    }),
  );

  withJson(
    withStore(
      audit
        .command('prove')
        .description('inclusion proof of one record against the newest signed checkpoint')
        .argument('<recordId>')
        .option('--out <file>', 'write the proof here (default stdout)'),
    ),
  ).action(
    action(async (recordId: string, opts: StoreOptions & { out?: string }) => {
      const proof = await proveInclusion({ ...store(opts), recordId });
      if (opts.out) writeFileAtomic(opts.out, JSON.stringify(proof, null, 2) + '\n');
      else printJson(proof);
    }),
  );

  withJson(
    audit
      .command('verify-proof')
      .description('verify an inclusion proof offline with the public key(s)')
      .argument('<file>')
      .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)'),
  ).action(
    action(async (file: string, opts: { trustedKeys?: string; json?: boolean }) => {
      const result = verifyInclusionProof(parseJson(readText(file), file), loadTrustedKeys(opts.trustedKeys ?? defaultTrustedKeys()), file);
      if (opts.json) printJson({ ok: true, ...result });
      else
        printLine(
          `OK: record ${result.recordId} is leaf ${result.seq} of ${result.origin} at tree size ${result.treeSize}, checkpoint signed by ${result.signedBy}`,
        );
    }),
  );

  withJson(
    withStore(
      audit
        .command('export')
        .description('evidence bundle for one tenant and time range: records, inclusion proofs, checkpoint, public key')
        .requiredOption('--tenant <id>')
        .option('--from <time>', 'inclusive, ISO-8601')
        .option('--to <time>', 'exclusive, ISO-8601')
        .requiredOption('--out <file>')
        .option('--trusted-keys <file>', 'trusted keys (default $CHARTER_HOME/keys/trusted-keys.json)'),
    ),
  ).action(
    action(
      async (opts: StoreOptions & { tenant: string; from?: string; to?: string; out: string; trustedKeys?: string; json?: boolean }) => {
        const bundle = await exportEvidenceBundle({
          ...store(opts),
          tenant: opts.tenant,
          ...(opts.from ? { from: opts.from } : {}),
          ...(opts.to ? { to: opts.to } : {}),
          trustedKeys: loadTrustedKeys(opts.trustedKeys ?? defaultTrustedKeys()),
        });
        writeFileAtomic(opts.out, JSON.stringify(bundle, null, 2) + '\n');
        if (opts.json) printJson({ ok: true, out: opts.out, records: bundle.records.length, treeSize: bundle.treeSize });
        else printLine(`wrote ${opts.out}: ${bundle.records.length} record(s) with proofs against tree size ${bundle.treeSize}`);
      },
    ),
  );

  audit
    .command('schema')
    .description('JSON Schema (2020-12) of the audit record')
    .action(action(() => printJson(auditRecordJsonSchema())));

  withJson(withStore(audit.command('reindex').description('rebuild the SQLite index from the segments'))).action(
    action(async (opts: StoreOptions & { json?: boolean }) => {
      const treeSize = await rebuildIndex(store(opts));
      if (opts.json) printJson({ ok: true, treeSize });
      else printLine(`index rebuilt: ${treeSize} record(s)`);
    }),
  );
}
