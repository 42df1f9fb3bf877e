import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runWitness, sinkFromUri, vkeyOf } from '../../../audit/index.js';
import { charterHome, InputError } from '../../../common/index.js';
import { loadPrivateKey, LocalKeySigner, publicKeyFromPem, trustedKeyFromPublicKey } from '../../../signing/index.js';
import { readText } from '../../../common/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { collect, inside, positiveInt } from './shared.js';

interface WitnessCliOptions {
  key: string;
  name: string;
  state?: string;
  logKey?: string[];
  sink?: string;
  s3Endpoint?: string;
  cosignatures?: string;
  retentionDays?: string;
  printVkey?: boolean;
  json?: boolean;
}

export function registerWitness(audit: Command): void {
  withJson(
    audit
      .command('witness')
      .description(
        "cosign the log's newest checkpoint (C2SP tlog-cosignature) if it is consistent with the last one this witness cosigned; one run per call (cron-friendly)",
      )
      .requiredOption(
        '--key <file>',
        "the witness's own Ed25519 private key (PEM; charter keys generate --purpose witness), never the log's",
      )
      .requiredOption('--name <name>', 'the witness name in its cosignature lines, e.g. witness.example.com/w1')
      .option('--state <dir>', "the witness's state: the checkpoint it cosigned last, per log (outside the writer's home)")
      .option('--log-key <file>', "the log's public key (PEM), given to the witness out of band; repeatable", collect)
      .option('--sink <uri>', 'where the log is: s3://bucket/prefix or a directory')
      .option('--s3-endpoint <url>', 'S3 endpoint (default: the AWS settings, e.g. AWS_ENDPOINT_URL_S3)')
      .option('--cosignatures <uri>', 'where to store cosignatures (default: the log sink, under cosignatures/)')
      .option(
        '--retention-days <n>',
        'S3 Object Lock retention each stored cosignature gets (the bucket must enforce at least this)',
        '365',
      )
      .option('--print-vkey', "print the witness's C2SP verifier key (for auditors' --witness-key) and exit"),
  ).action(
    action(async (opts: WitnessCliOptions) => {
      const signer = new LocalKeySigner(loadPrivateKey(opts.key));
      if (opts.printVkey) return void printLine(vkeyOf({ name: opts.name, publicKey: signer.publicKey }));
      const required = (value: string | string[] | undefined, field: string): void => {
        if (value === undefined || value.length === 0) throw new InputError(`${field} is required`, { field });
      };
      required(opts.state, '--state');
      required(opts.logKey, '--log-key');
      required(opts.sink, '--sink');
      const stateDir = resolve(opts.state!);
      if (inside(charterHome(), stateDir))
        throw new InputError(`the witness state must be outside the writer's home ${charterHome()}`, { field: '--state' });
      const logKeys = {
        keys: opts.logKey!.map((f) => trustedKeyFromPublicKey(publicKeyFromPem(readText(f), f), `log key ${f}`, ['audit-checkpoint'])),
      };
      const s3 = {
        retentionDays: positiveInt(opts.retentionDays, '--retention-days')!,
        ...(opts.s3Endpoint ? { endpoint: opts.s3Endpoint } : {}),
      };
      const report = await runWitness({
        sink: sinkFromUri(opts.sink!, s3),
        ...(opts.cosignatures ? { cosignatures: sinkFromUri(opts.cosignatures, s3) } : {}),
        stateDir,
        name: opts.name,
        signer,
        logKeys,
      });
      if (opts.json) return void printJson({ ok: true, ...report });
      const from = report.previous ? `consistent with tree size ${report.previous.treeSize} cosigned before` : 'first sight of this log';
      printLine(
        `${report.cosignature ? 'COSIGNED' : 'ALREADY COSIGNED'}: ${report.origin} at tree size ${report.treeSize} (${from})${report.cosignature ? `, stored as ${report.cosignature.key}` : ''}`,
      );
      for (const s of report.skipped) printLine(`  ! passed over ${s}`);
      printLine(`  witness key: ${report.vkey}`);
    }),
  );
}
