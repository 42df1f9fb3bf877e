import { FindingError } from '../common/index.js';
import type { TrustedKeysFile } from '../signing/index.js';
import { checkLine, chainRecord } from './chain.js';
import { splitNote, verifyCheckpoint } from './checkpoint.js';
import { cosignedSizes, requireCosignatures, storedCosignatures, type WitnessPolicy } from './cosignature.js';
import { verifyInclusion } from './merkle.js';
import { proveInclusion, type InclusionProof, type VerifiedInclusion } from './proof.js';
import { SealedRecord } from './record.js';
import { readerSink, type AuditReadOptions } from './reader.js';
import { recordLeaf } from './stored-line.js';

/**
 * Inclusion proofs in the C2SP tlog-proof text format (https://c2sp.org/tlog-proof):
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64 of the record's stored line>
 *   index <seq>
 *   <base64 hash>                     (RFC 6962 audit path, leaf's sibling first; zero or more lines)
 *
 *   <the signed checkpoint, verbatim, with the witnesses' cosignature lines>
 *
 * A Charter leaf is SHA-256(0x00 || SHA-256 of the record's body), so the verifier needs the
 * record: `extra` carries its stored line (the body with `,"hash":"sha256:<hex>"` spliced in
 * before the final brace; the body is the line with that suffix cut and `}` put back). Extra
 * data is not trusted: the line's hash is recomputed and leads to the signed root.
 */

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  extra?: Buffer;
  index: number;
  hashes: Buffer[];
  /** The signed note, with any cosignature lines. */
  checkpoint: string;
}

export function formatTlogProof(p: TlogProof): string {
  return [
    TLOG_PROOF_HEADER,
    ...(p.extra ? [`extra ${p.extra.toString('base64')}`] : []),
    `index ${p.index}`,
    ...p.hashes.map((h) => h.toString('base64')),
    '',
    p.checkpoint,
  ].join('\n');
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseTlogProof(text: string, where: string): TlogProof {
  const lines = text.split('\n');
  const bad = (why: string): never => {
    throw new FindingError(`not a ${TLOG_PROOF_HEADER} proof: ${why}`, { file: where });
  };
  if (lines[0] !== TLOG_PROOF_HEADER) bad(`the first line must be '${TLOG_PROOF_HEADER}'`);
  let i = 1;
  let extra: Buffer | undefined;
  if (lines[i]?.startsWith('extra ')) {
    const data = lines[i++]!.slice(6);
    if (!B64.test(data)) bad(`line ${i}: extra data is not base64`);
    extra = Buffer.from(data, 'base64');
  }
  const index = /^index (0|[1-9]\d*)$/.exec(lines[i++] ?? '');
  if (!index) bad(`line ${i}: expected 'index <decimal>'`);
  const hashes: Buffer[] = [];
  for (; lines[i] !== '' && i < lines.length; i++) {
    if (!/^[A-Za-z0-9+/]{43}=$/.test(lines[i]!)) bad(`line ${i + 1}: expected a base64 SHA-256 hash`);
    hashes.push(Buffer.from(lines[i]!, 'base64'));
  }
  if (i >= lines.length) bad('no empty line before the checkpoint');
  return { ...(extra ? { extra } : {}), index: Number(index![1]), hashes, checkpoint: lines.slice(i + 1).join('\n') };
}

/** The sealed record's stored line, as the segment holds it. */
const storedLine = ({ hash: _h, seq, prevHash, ...record }: SealedRecord): string => chainRecord(record, seq, prevHash).line;

/**
 * A tlog-proof of a record against the newest checkpoint that witnesses cosigned and that
 * contains it (else the newest checkpoint), with the stored cosignature lines appended to the
 * checkpoint. Also returns the JSON proof, which carries the same checkpoint.
 */
export async function proveTlog(opts: AuditReadOptions & { recordId: string }): Promise<{ text: string; proof: InclusionProof }> {
  const proof = await proveInclusion({ ...opts, preferTreeSizes: await cosignedSizes(readerSink(opts)) });
  const lines = await storedCosignatures(readerSink(opts), proof.treeSize);
  const own = new Set(splitNote(proof.checkpoint, 'checkpoint').signatures.map((s) => s.line));
  const checkpoint =
    proof.checkpoint +
    [...new Set(lines.map((l) => l.line))]
      .filter((l) => !own.has(l))
      .map((l) => `${l}\n`)
      .join('');
  const withCosignatures = { ...proof, checkpoint };
  const text = formatTlogProof({
    extra: Buffer.from(storedLine(proof.record), 'utf8'),
    index: proof.record.seq,
    hashes: proof.auditPath.map((h) => Buffer.from(h, 'base64')),
    checkpoint,
  });
  return { text, proof: withCosignatures };
}

/**
 * Checks a tlog-proof offline: the record in `extra` matches its own hash, is leaf `index`,
 * the audit path leads to the checkpoint's root, the checkpoint is signed by a trusted
 * `audit-checkpoint` key, and (with a policy) cosigned by a quorum of the witnesses.
 */
export function verifyTlogProof(
  text: string,
  trusted: TrustedKeysFile,
  policy: WitnessPolicy | undefined,
  where: string,
): VerifiedInclusion {
  const p = parseTlogProof(text, where);
  if (!p.extra) throw new FindingError('the proof carries no record (extra line)', { file: where });
  const line = p.extra.toString('utf8');
  const hashes = checkLine(line);
  if (!hashes || hashes.claimed !== hashes.actual)
    throw new FindingError(`the record in the extra line does not match its hash: modified`, { file: where });
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  const record = SealedRecord.safeParse(parsed);
  if (!record.success || record.data.seq !== p.index)
    throw new FindingError(`the record in the extra line is not a sealed audit record with seq ${p.index}`, { file: where });
  const cp = verifyCheckpoint(p.checkpoint, trusted, where);
  if (!verifyInclusion(p.index, cp.treeSize, recordLeaf(hashes.actual), p.hashes, cp.rootHash))
    throw new FindingError(
      `record ${record.data.id} (seq ${p.index}) is not included in the checkpoint's tree: the audit path does not lead to its root`,
      { file: where },
    );
  requireCosignatures(p.checkpoint, policy, where);
  return { recordId: record.data.id, seq: p.index, treeSize: cp.treeSize, origin: cp.origin, signedBy: cp.signedBy.name };
}
