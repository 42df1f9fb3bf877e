import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FindingError, writeFileAtomic } from '../common/index.js';
import type { CheckpointMeta } from './segment.js';
import { writeFileDurably } from './wal.js';

/**
 * A local witness: the newest checkpoint note this state directory sealed, in
 * `<dir>/latest-checkpoint`, rewritten after every seal. Deleting the newest segments *and*
 * their checkpoints from the sink leaves a shorter log that is consistent in itself; the
 * witness still names the lost tree size and root, so the writer refuses to continue such a
 * log and `verify` (given the directory) reports it. It lives beside the WAL, so it helps
 * most when the sink is elsewhere (S3); on the local sink whoever deletes segments can delete
 * it too, and an anchor kept off the machine (`--anchor`) is the stronger check.
 */
export const witnessFile = (dir: string): string => join(dir, 'latest-checkpoint');

export function readWitness(dir: string): string | undefined {
  const file = witnessFile(dir);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** Written after the checkpoint is stored, so the sink always holds at least this tree. */
export async function recordWitness(dir: string, meta: CheckpointMeta): Promise<void> {
  await writeFileDurably(witnessFile(dir), meta.note); // after every seal: kept off the event loop
}

/**
 * The writer's check at open: the sink must still hold the witness's tree (same size, same
 * root) or a larger one. The signature is checked by verify; here the file is our own.
 */
export function checkWitness(
  dir: string,
  latest: CheckpointMeta | undefined,
  location: string,
  onRecovery: (message: string) => void = () => undefined,
): void {
  const note = readWitness(dir);
  if (note === undefined) return;
  const [, size, root] = note.split('\n');
  const treeSize = Number(size);
  if (!Number.isInteger(treeSize) || treeSize < 1 || !root) {
    // What a power loss leaves of an unsynced rewrite (older versions did not fsync it). It
    // protects nothing in this state; deleting it would have the same effect.
    onRecovery(
      `${witnessFile(dir)}: ${note === '' ? 'empty' : 'not a checkpoint note'} (a torn write): replaced by the sink's newest checkpoint (tree size ${latest?.treeSize ?? 0}); truncation before this moment cannot be detected from it`,
    );
    if (latest) writeFileAtomic(witnessFile(dir), latest.note);
    else rmSync(witnessFile(dir), { force: true });
    return;
  }
  const have = latest?.treeSize ?? 0;
  if (have < treeSize || (have === treeSize && latest?.rootHash !== root)) {
    throw new FindingError(
      `${location} ends at tree size ${have}${have === treeSize ? ' with another root' : ''}, but this directory sealed a checkpoint of tree size ${treeSize}: the newest segments and checkpoints were deleted or rewritten`,
      { file: witnessFile(dir) },
    );
  }
}
