import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { appendMany, AuditRecord, openHomeAuditLog } from '../../../audit/index.js';
import { charterHome, InputError, parseJson, readText, validateWith } from '../../../common/index.js';
import { loadSigner, LocalKeySigner } from '../../../signing/index.js';
import { action, withJson } from '../../program.js';
import { overrides, positiveInt, withStore, type StoreOptions } from './shared.js';

async function* jsonLines(file: string | undefined): AsyncGenerator<{ text: string; line: number }> {
  const input = file ? createReadStream(file) : process.stdin;
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() !== '') yield { text, line };
  }
}

interface AppendOptions extends StoreOptions {
  key?: string;
  origin: string;
  sealEveryRecords: string;
  sealEveryMs: string;
  inFlight: string;
}

export function registerAppend(audit: Command): void {
  withJson(
    withStore(
      audit
        .command('append')
        .description('append audit records (JSON lines from FILE or stdin); prints {"id","seq"} per acknowledged record')
        .argument('[file]', 'JSONL file of audit records (default stdin)')
        .option('--key <ref>', 'audit-checkpoint signing key (Ed25519 PEM file)', undefined)
        .option('--origin <origin>', 'checkpoint origin line', 'charter.local/audit')
        .option('--retention-days <n>', 'S3 Object Lock retention the bucket must enforce (default: config.yaml, else 365)')
        .option('--seal-every-records <n>', 'seal after this many records', '10000')
        .option('--seal-every-ms <n>', 'seal at least this often', '1000')
        .option('--in-flight <n>', 'records appended concurrently (group commit)', '256'),
    ),
  ).action(
    action(async (file: string | undefined, opts: AppendOptions) => {
      if (file) readText(file);
      const signer = await loadSigner(opts.key ?? join(charterHome(), 'keys', 'audit.key.pem'));
      if (!(signer instanceof LocalKeySigner)) throw new InputError('audit checkpoints need a local Ed25519 key file', { field: '--key' });
      const inFlight = positiveInt(opts.inFlight, '--in-flight')!;
      // All of the input is checked before the first append: a bad line appends nothing.
      const where = file ?? 'stdin';
      const records: AuditRecord[] = [];
      for await (const { text, line } of jsonLines(file))
        records.push(validateWith(AuditRecord, parseJson(text, `${where}:${line}`), where, () => line));
      const log = await openHomeAuditLog({
        home: charterHome(),
        dir: opts.dir,
        overrides: overrides(opts),
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
    }),
  );
}
