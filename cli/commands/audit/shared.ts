import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve, isAbsolute } from 'node:path';
import type { Command } from 'commander';
import {
  homeAuditStore,
  parseVkey,
  witnessKeysOf,
  type AuditOverrides,
  type SegmentSink,
  type WitnessKey,
  type WitnessPolicy,
} from '../../../audit/index.js';
import { charterHome, InputError } from '../../../common/index.js';
import { loadTrustedKeys, type TrustedKeysFile } from '../../../signing/index.js';

/** Options every verb that reads or writes the trail takes. */
export interface StoreOptions {
  dir?: string;
  sink?: string;
  s3Endpoint?: string;
  retentionDays?: string;
}

export const defaultDir = (): string => join(charterHome(), 'audit');
/** The writer's own trusted keys: fine for the writer's checks, never what an auditor relies on. */
export const homeTrustedKeys = (): string => join(charterHome(), 'keys', 'trusted-keys.json');

/** Environment variable naming a pinned trusted-keys file outside the home, for auditors. */
export const AUDITOR_KEYS_ENV = 'CHARTER_AUDIT_TRUSTED_KEYS';

export function positiveInt(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new InputError(`expected a positive integer, got '${value}'`, { field });
  return Number(value);
}

/** Flags over the home's audit setting ($CHARTER_HOME/config.yaml, then the environment). */
export const overrides = (opts: StoreOptions): AuditOverrides => ({
  sink: opts.sink,
  endpoint: opts.s3Endpoint,
  retentionDays: positiveInt(opts.retentionDays, '--retention-days'),
});

/** The home's audit store: state directory and the sink that config.yaml, the environment or --sink names. */
export const store = (opts: StoreOptions): { dir: string; sink: SegmentSink } => homeAuditStore(charterHome(), opts.dir, overrides(opts));

export function withStore(cmd: Command): Command {
  return cmd
    .option('--dir <dir>', 'local audit state (WAL, index, latest-checkpoint; the segments too with the local sink)', undefined)
    .option(
      '--sink <uri>',
      's3://bucket/prefix, local (the --dir, for development) or a directory (default: CHARTER_AUDIT_SINK, then audit.sink in $CHARTER_HOME/config.yaml, then local)',
      undefined,
    )
    .option(
      '--s3-endpoint <url>',
      'S3 endpoint (default: CHARTER_AUDIT_S3_ENDPOINT, audit.endpoint in config.yaml, AWS settings such as AWS_ENDPOINT_URL_S3)',
      undefined,
    );
}

/** Whether `file` is `dir` or lies under it. */
export const inside = (dir: string, file: string): boolean => {
  const rel = relative(resolve(dir), resolve(file));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

export type AuditorKeys =
  { trusted: true; file: string; keys: TrustedKeysFile } | { trusted: false; reason: string; keys: TrustedKeysFile };

/**
 * The keys an auditor verifies with. Trusted only when they come from outside the trail: the
 * `--trusted-keys` flag, or a pinned file named by CHARTER_AUDIT_TRUSTED_KEYS that is not in
 * the writer's home. Otherwise the home's own keys (if any) are used to report what they
 * would say, marked untrusted: whoever can write the home can replace them with a forger's.
 */
export function auditorKeys(flag: string | undefined): AuditorKeys {
  if (flag) return { trusted: true, file: flag, keys: loadTrustedKeys(flag) };
  const pinned = process.env[AUDITOR_KEYS_ENV];
  if (pinned && !inside(charterHome(), pinned)) return { trusted: true, file: pinned, keys: loadTrustedKeys(pinned) };
  const reason = pinned
    ? `${AUDITOR_KEYS_ENV} names ${pinned}, inside the writer's home ${charterHome()}`
    : `no keys from outside the trail: pass --trusted-keys or set ${AUDITOR_KEYS_ENV} to a file outside ${charterHome()}`;
  const home = homeTrustedKeys();
  return { trusted: false, reason, keys: existsSync(home) ? loadTrustedKeys(home) : { keys: [] } };
}

/** Repeatable option values (commander's collector). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export interface WitnessPolicyOptions {
  witnessKey?: string[];
  witnessQuorum?: string;
}

export function withWitnessPolicy(cmd: Command): Command {
  return cmd
    .option(
      '--witness-key <vkey|file>',
      "a witness whose cosignature is required: its C2SP verifier key (name+id+key, as charter audit witness prints it) or a file holding one; repeatable. The trusted keys' witness entries count too",
      collect,
    )
    .option('--witness-quorum <n>', 'how many of the witnesses must have cosigned (default: all of them)');
}

/**
 * The witnesses an auditor requires: `--witness-key` verifier keys and the trusted keys'
 * `witness` entries, with `--witness-quorum` (default all). Undefined when none are configured.
 */
export function witnessPolicy(opts: WitnessPolicyOptions, trusted: TrustedKeysFile): WitnessPolicy | undefined {
  const given = (opts.witnessKey ?? []).map((v) => (existsSync(v) ? parseVkey(readFileSync(v, 'utf8'), v) : parseVkey(v, '--witness-key')));
  const witnesses: WitnessKey[] = [];
  for (const w of [...given, ...witnessKeysOf(trusted)])
    if (!witnesses.some((k) => k.name === w.name && k.publicKey.equals(w.publicKey))) witnesses.push(w);
  const quorum = positiveInt(opts.witnessQuorum, '--witness-quorum');
  if (witnesses.length === 0) {
    if (quorum !== undefined)
      throw new InputError('--witness-quorum needs witnesses (--witness-key, or witness entries in the trusted keys)', {
        field: '--witness-quorum',
      });
    return undefined;
  }
  if (quorum !== undefined && quorum > witnesses.length)
    throw new InputError(`--witness-quorum ${quorum} is more than the ${witnesses.length} witness(es) configured`, {
      field: '--witness-quorum',
    });
  return { witnesses, quorum: quorum ?? witnesses.length };
}
