import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, FindingError, InputError, writeFileAtomic } from '../common/index.js';
import { keyIdOf, type LocalKeySigner, type TrustedKeysFile } from '../signing/index.js';
import { parseCheckpointText, splitNote } from './checkpoint.js';
import { inconsistency, newestSignedCheckpoint, type TreeHead } from './consistency.js';
import { checkCosignatures, cosign, cosignatureKey, storedCosignatures, vkeyOf } from './cosignature.js';
import { lockLogDir } from './lock.js';
import type { SegmentSink } from './sinks/sink.js';

/**
 * The witness role (`charter audit witness`): a party other than the writer, with its own
 * Ed25519 key and its own state directory, that cosigns the log's newest checkpoint only if
 * it is consistent with the last one it cosigned, as a C2SP tlog-witness does. It remembers
 * one checkpoint per origin (`<state>/<origin, URI-encoded>.checkpoint`, the log-signed note),
 * updated atomically before the cosignature is published, under a lock so that two runs
 * cannot roll each other back.
 */

export interface WitnessOptions {
  /** Where the log is. */
  sink: SegmentSink;
  /** Where cosignatures are stored; default the log's sink (a new object each time, never an overwrite). */
  cosignatures?: SegmentSink;
  /** The witness's own state, outside the writer's home. */
  stateDir: string;
  /** Key name of the cosignature lines, e.g. `witness.example/w1`. */
  name: string;
  signer: LocalKeySigner;
  /** The log's public key(s) (`audit-checkpoint`), given to the witness out of band. */
  logKeys: TrustedKeysFile;
  now?: () => number;
}

export interface WitnessReport {
  origin: string;
  treeSize: number;
  rootHash: string;
  /** The tree this witness cosigned before, or null on its first sight of the log. */
  previous: { treeSize: number; rootHash: string } | null;
  /** The cosignature stored now; null when one by this witness for this tree was already there. */
  cosignature: { key: string; line: string } | null;
  /** The witness's verifier key, for auditors' `--witness-key`. */
  vkey: string;
  /** Checkpoint objects above the newest one that were passed over (not signed by the log key, unreadable). */
  skipped: string[];
}

export const witnessStateFile = (stateDir: string, origin: string): string => join(stateDir, `${encodeURIComponent(origin)}.checkpoint`);

/** The tree this witness cosigned last for `origin`, from its own state. */
function remembered(stateDir: string, origin: string): TreeHead | undefined {
  const file = witnessStateFile(stateDir, origin);
  if (!existsSync(file)) return undefined;
  try {
    const { text } = splitNote(readFileSync(file, 'utf8'), file);
    return parseCheckpointText(text, file);
  } catch (err) {
    throw new InputError(`the witness state is unreadable (${errorMessage(err)}); refusing to cosign without knowing what was seen`, {
      file,
    });
  }
}

/**
 * One witness run: read the newest checkpoint signed by the log, check it against what this
 * witness remembers (a rollback, a fork at the same size, or a failed consistency proof is a
 * FindingError naming both trees, and nothing is cosigned or remembered), remember it, and
 * store a cosignature unless one by this witness is already stored for it.
 */
export async function runWitness(opts: WitnessOptions): Promise<WitnessReport> {
  const me = { name: opts.name, publicKey: opts.signer.publicKey };
  if (opts.logKeys.keys.some((k) => k.keyId === keyIdOf(opts.signer.publicKey)))
    throw new InputError("the witness key is one of the log's keys: a witness must have a key of its own", { field: '--key' });
  const release = lockLogDir(opts.stateDir);
  try {
    const { meta, cp, skipped } = await newestSignedCheckpoint(opts.sink, opts.logKeys);
    const seen = remembered(opts.stateDir, cp.origin);
    if (seen) {
      const why = await inconsistency(opts.sink, seen, meta, 'the tree this witness cosigned last');
      if (why) throw new FindingError(`refusing to cosign: ${why}`, { file: witnessStateFile(opts.stateDir, cp.origin) });
    }
    if (seen?.treeSize !== cp.treeSize) writeFileAtomic(witnessStateFile(opts.stateDir, cp.origin), meta.note);

    const store = opts.cosignatures ?? opts.sink;
    const text = splitNote(meta.note, meta.segment.key).text;
    const stored = checkCosignatures(text, await storedCosignatures(store, cp.treeSize), [me]).some((c) => c.valid);
    let cosignature: WitnessReport['cosignature'] = null;
    if (!stored) {
      const timestamp = Math.floor((opts.now?.() ?? Date.now()) / 1000);
      const line = cosign(text, opts.name, opts.signer, timestamp);
      const key = cosignatureKey(cp.treeSize, opts.name, timestamp);
      await store.open(); // on S3: refuses a bucket without COMPLIANCE Object Lock
      await store.put(key, Buffer.from(`${line}\n`, 'utf8'));
      cosignature = { key, line };
    }
    return {
      origin: cp.origin,
      treeSize: cp.treeSize,
      rootHash: meta.rootHash,
      previous: seen ? { treeSize: seen.treeSize, rootHash: seen.rootHash.toString('base64') } : null,
      cosignature,
      vkey: vkeyOf(me),
      skipped,
    };
  } finally {
    release();
  }
}
