import { z } from 'zod';
import { errorMessage, FindingError, InputError, parseJson, validateWith } from '../common/index.js';
import { TrustedKey, type TrustedKeysFile } from '../signing/index.js';
import { checkLine } from './chain.js';
import { noteExtensions, parseSignatureLine, splitNote, verifyCheckpoint, type VerifiedCheckpoint } from './checkpoint.js';
import { checkCosignatures, cosignedSizes, storedCosignatures, type WitnessPolicy } from './cosignature.js';
import {
  directoryEntries,
  entriesRoot,
  overlaps,
  parseDirectoryLine,
  seqsHash,
  tenantHash,
  type DirectoryEntry,
  type SignedSegment,
} from './directory.js';
import { oneCheckpointPerTreeSize } from './consistency.js';
import { leafHash, MerkleFrontier, verifyConsistency } from './merkle.js';
import { normaliseTime } from './query.js';
import { gunzipSegment, listCheckpointKeys, readCheckpointMeta, Base64Hash, type CheckpointMeta } from './segment.js';
import { LocalDirectorySink } from './sinks/local.js';
import type { SegmentSink } from './sinks/sink.js';
import type { AuditReadOptions } from './reader.js';

/** Up to 100,000 stored lines per bundle: one loop checks they are strings (zod's per-element check was 7% of a bundle's verification). */
const StringList = z.custom<string[]>((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'), 'expected an array of strings');

/**
 * An evidence bundle: every record of one tenant in a period, with what proves both that
 * each is in the log and that none is missing. It lists every checkpoint of the log (each a
 * signed C2SP note whose extension line gives the segment's seq range, time span and tenant
 * directory root, see directory.ts). For each segment whose time span overlaps the period it
 * carries the segment's record hashes (which, over the previous checkpoint's frontier, must
 * give the signed root), the directory entries, the tenant's seq list there and the tenant's
 * stored lines. Each checkpoint carries the consistency proof from the one before (so the
 * checkpoints are one history) and the witness cosignatures stored for it. It verifies
 * offline; only keys (and witnesses) the verifier brings make it trusted.
 */
export const EvidenceBundle = z.object({
  format: z.literal('charter.audit.evidence-bundle/v3'),
  origin: z.string().min(1),
  filter: z.object({ tenant: z.string().min(1), from: z.string().nullable(), to: z.string().nullable() }),
  treeSize: z.number().int().positive(),
  publicKeys: z.array(TrustedKey).min(1),
  checkpoints: z.array(
    z.object({
      note: z.string().min(1),
      /** RFC 9162 consistency proof from the previous checkpoint's tree to this one (empty for the first). */
      consistency: z.array(Base64Hash),
      /** Witness cosignature lines (C2SP tlog-cosignature) stored for this checkpoint, whoever wrote them. */
      cosignatures: z.array(z.string()),
      segment: z
        .object({
          /** Frontier of the tree before the segment (the previous checkpoint's), base64 nodes. */
          frontier: z.array(Base64Hash),
          /** Base64 of the segment's record hashes (32 bytes each) in seq order. */
          hashes: z.string(),
          directory: z.array(z.tuple([Base64Hash, Base64Hash])),
          /** The tenant's seqs in the segment, as its directory entry commits to them. */
          seqs: z.array(z.number().int().nonnegative()),
          /** The tenant's stored lines in the segment, in seq order. */
          records: StringList,
        })
        .optional(),
    }),
  ),
});
export type EvidenceBundle = z.infer<typeof EvidenceBundle>;
type BundleSegment = NonNullable<EvidenceBundle['checkpoints'][number]['segment']>;

export interface BundleReport {
  /** No findings, and the checkpoints are signed by a key the verifier brought (not one from the bundle). */
  ok: boolean;
  trusted: boolean;
  origin: string;
  treeSize: number;
  /** The tenant's records in the period. */
  records: number;
  /** The tenant's records in the bundle: those of the period plus the rest of the segments that overlap it. */
  recordsInSegments: number;
  checkpoints: number;
  signedBy: string[];
  /** With a witness policy: the newest checkpoint of the bundle its quorum cosigned (tree size 0: none). */
  witnessed?: { quorum: number; treeSize: number };
  findings: string[];
}

/** A record of the bundle, for readers: the parsed stored line. */
export function bundleRecords(bundle: EvidenceBundle): Array<{ seq: number; id: string; tenantId: string; time: string }> {
  return bundle.checkpoints.flatMap((c) =>
    (c.segment?.records ?? []).map((line) => JSON.parse(line) as { seq: number; id: string; tenantId: string; time: string }),
  );
}

const checkpointOf = (meta: CheckpointMeta, where: string): SignedSegment => {
  const signed = parseDirectoryLine(noteExtensions(meta.note));
  if (!signed || !meta.directory)
    throw new InputError(`${where} was sealed without a tenant directory: this log cannot prove a bundle complete`, { file: where });
  return signed;
};

/** Value of each ASCII hex digit (lowercase, as stored lines carry them); anything else reads as 0 and fails the bundle's Merkle check. */
const HEX_VALUE = Uint8Array.from({ length: 256 }, (_, c) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : 0));

/** The bundle's part for one segment that overlaps the period: read from the sealed segment, not from the index. */
async function segmentPart(
  sink: SegmentSink,
  meta: CheckpointMeta,
  previous: CheckpointMeta | undefined,
  tenant: string,
): Promise<BundleSegment> {
  const bytes = await sink.get(meta.segment.key);
  if (!bytes) throw new FindingError('segment named by a checkpoint is missing: run charter audit verify', { file: meta.segment.key });
  // Works on the gunzipped bytes: only the tenant's lines become strings; every line gives its hash.
  const text = await gunzipSegment(bytes, meta.segment.key);
  const seqs = meta.directory!.tenants[tenant] ?? [];
  const ends: number[] = [];
  for (let at = 0; at < text.length; at = ends[ends.length - 1]! + 1) {
    const nl = text.indexOf(0x0a, at);
    ends.push(nl < 0 ? text.length : nl);
  }
  const hashes = Buffer.alloc(32 * ends.length);
  // the claimed hash from the line's suffix, decoded in place (a string per line cost more than the rest of the scan)
  ends.forEach((end, i) => {
    for (let j = 0, at = end - 66; j < 32; j++, at += 2) hashes[32 * i + j] = (HEX_VALUE[text[at]!]! << 4) | HEX_VALUE[text[at + 1]!]!;
  });
  const lineAt = (i: number): string => (i >= 0 && i < ends.length ? text.toString('utf8', i === 0 ? 0 : ends[i - 1]! + 1, ends[i]) : '');
  return {
    frontier: previous?.frontier ?? [],
    hashes: hashes.toString('base64'),
    directory: directoryEntries(meta.directory!),
    seqs,
    records: seqs.map((seq) => lineAt(seq - meta.segment.firstSeq)),
  };
}

/**
 * Exports one tenant's records in a period from the sealed segments (the index is not
 * consulted: an edited index cannot hide a record). Every checkpoint is checked against
 * the exporter's trusted keys first.
 */
export async function exportEvidenceBundle(
  opts: AuditReadOptions & {
    tenant: string;
    from?: string;
    to?: string;
    trustedKeys: TrustedKeysFile;
    /** Where the witnesses stored their cosignatures; default the log's sink. */
    cosignatures?: SegmentSink;
  },
): Promise<EvidenceBundle> {
  const from = opts.from !== undefined ? normaliseTime(opts.from, 'from') : null;
  const to = opts.to !== undefined ? normaliseTime(opts.to, 'to') : null;
  const sink = opts.sink ?? new LocalDirectorySink(opts.dir);
  const { kept: keys } = await oneCheckpointPerTreeSize(sink, await listCheckpointKeys(sink), opts.trustedKeys);
  if (keys.length === 0) throw new InputError('the audit log has no sealed records yet', { file: sink.location });
  const metas = await Promise.all(keys.map((k) => readCheckpointMeta(sink, k.key)));
  const signers = new Map<string, VerifiedCheckpoint['signedBy']>();
  const overlapping = metas.map((meta, i) => {
    const signer = verifyCheckpoint(meta.note, opts.trustedKeys, keys[i]!.key).signedBy;
    signers.set(signer.keyId, signer);
    return overlaps(checkpointOf(meta, keys[i]!.key), from, to);
  });
  // Two segments in flight: one gunzips on the thread pool while the other is scanned here.
  const parts = new Map<number, Promise<BundleSegment>>();
  let next = 0;
  const readNext = (): void => {
    while (next < metas.length && !overlapping[next]) next++;
    if (next >= metas.length) return;
    const part = segmentPart(sink, metas[next]!, metas[next - 1], opts.tenant);
    part.catch(() => undefined); // awaited in order below; not an unhandled rejection meanwhile
    parts.set(next++, part);
  };
  readNext();
  readNext();
  const cosigned = new Set(await cosignedSizes(opts.cosignatures ?? sink));
  const checkpoints: EvidenceBundle['checkpoints'] = [];
  for (const [i, meta] of metas.entries()) {
    const part = parts.get(i);
    if (part) {
      parts.delete(i);
      readNext();
    }
    const cosignatures = cosigned.has(meta.treeSize) ? await storedCosignatures(opts.cosignatures ?? sink, meta.treeSize) : [];
    checkpoints.push({
      note: meta.note,
      consistency: meta.consistencyProof,
      cosignatures: cosignatures.map((c) => c.line),
      ...(part ? { segment: await part } : {}),
    });
  }
  const latest = metas.at(-1)!;
  return {
    format: 'charter.audit.evidence-bundle/v3',
    origin: latest.origin,
    filter: { tenant: opts.tenant, from, to },
    treeSize: latest.treeSize,
    publicKeys: [...signers.values()],
    checkpoints,
  };
}

interface SegmentCheck {
  where: string;
  tenant: string;
  span: SignedSegment;
  cp: VerifiedCheckpoint;
  previous: { treeSize: number; rootHash: Buffer };
  findings: string[];
}

/** The segment's record hashes, over the previous signed tree, must give this checkpoint's signed root. */
function checkSegmentHashes(part: BundleSegment, c: SegmentCheck): Buffer | undefined {
  const count = c.span.lastSeq - c.span.firstSeq + 1;
  const hashes = Buffer.from(part.hashes, 'base64');
  let frontier: MerkleFrontier;
  try {
    frontier = MerkleFrontier.restore(
      c.previous.treeSize,
      part.frontier.map((h) => Buffer.from(h, 'base64')),
    );
  } catch (err) {
    c.findings.push(`${c.where}: ${errorMessage(err)}`);
    return undefined;
  }
  if (!frontier.root().equals(c.previous.rootHash)) {
    c.findings.push(`${c.where}: the frontier does not hash to the previous checkpoint's signed root`);
    return undefined;
  }
  if (hashes.length !== 32 * count) {
    c.findings.push(`${c.where}: ${hashes.length / 32} record hashes for the ${count} records the checkpoint signs`);
    return undefined;
  }
  for (let i = 0; i < count; i++) frontier.push(leafHash(hashes.subarray(32 * i, 32 * i + 32)));
  if (!frontier.root().equals(c.cp.rootHash)) {
    c.findings.push(`${c.where}: the record hashes do not lead to the signed root of tree size ${c.cp.treeSize}`);
    return undefined;
  }
  return hashes;
}

/** A stored line of the bundle, parsed once. */
interface BundleLine {
  line: string;
  at: string;
  record?: { seq?: unknown; id?: unknown; tenantId?: unknown; time?: unknown };
  error?: string;
}

function parseLines(part: BundleSegment, c: SegmentCheck): BundleLine[] {
  return part.records.map((line, i) => {
    const at = `${c.where} records[${i}]`;
    try {
      return { line, at, record: JSON.parse(line) as BundleLine['record'] };
    } catch {
      try {
        parseJson(line, at); // for the message naming where the JSON breaks
      } catch (err) {
        return { line, at, error: errorMessage(err) };
      }
      return { line, at, error: `${at}: not JSON` };
    }
  });
}

/** The signed directory names the tenant's seqs in the segment: exactly those must be here. */
function checkTenantSeqs(part: BundleSegment, lines: BundleLine[], c: SegmentCheck): void {
  const entries = part.directory as DirectoryEntry[];
  if (entriesRoot(entries) !== c.span.root) {
    c.findings.push(`${c.where}: the tenant directory does not match the signed directory root`);
    return;
  }
  const entry = entries.find(([t]) => t === tenantHash(c.tenant));
  const expected = entry ? part.seqs : [];
  if (entry ? seqsHash(part.seqs) !== entry[1] : part.seqs.length > 0) {
    c.findings.push(`${c.where}: the tenant's seq list does not match the signed directory`);
    return;
  }
  const present = new Set<number>();
  for (const { record } of lines) if (typeof record?.seq === 'number') present.add(record.seq);
  const missing = expected.filter((s) => !present.has(s));
  if (missing.length > 0)
    c.findings.push(
      `${c.where}: record(s) of tenant ${c.tenant} missing from the bundle: seq ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''}`,
    );
  const signed = new Set(expected);
  const extra = [...present].filter((s) => !signed.has(s));
  if (extra.length > 0) c.findings.push(`${c.where}: seq ${extra.join(', ')} are not the tenant's records in this segment`);
}

/** Every stored line: its content matches its hash, which is the segment's hash at its seq, for the tenant, once. */
function checkRecords(
  lines: BundleLine[],
  hashes: Buffer | undefined,
  c: SegmentCheck,
  filter: EvidenceBundle['filter'],
  seen: Set<number>,
): number {
  let inPeriod = 0;
  lines.forEach(({ line, at, record, error }) => {
    if (!record) {
      c.findings.push(error ?? `${at}: not a record`);
      return;
    }
    const check = checkLine(line);
    const seq = typeof record.seq === 'number' ? record.seq : -1;
    const who = `record seq ${seq} (id ${String(record.id)})`;
    if (!check || check.claimed !== check.actual) c.findings.push(`${at}: ${who} does not match its hash: modified`);
    else if (seq < c.span.firstSeq || seq > c.span.lastSeq)
      c.findings.push(`${at}: ${who} is outside the segment's seqs ${c.span.firstSeq}..${c.span.lastSeq}`);
    else if (hashes && hashes.toString('hex', 32 * (seq - c.span.firstSeq), 32 * (seq - c.span.firstSeq) + 32) !== check.actual.slice(7))
      c.findings.push(`${at}: ${who} is not the record the log holds at seq ${seq}`);
    if (seen.has(seq)) c.findings.push(`${at}: ${who} appears again`);
    seen.add(seq);
    if (record.tenantId !== filter.tenant)
      c.findings.push(`${at}: ${who} belongs to tenant ${String(record.tenantId)}, not ${filter.tenant}`);
    const time = String(record.time);
    if ((filter.from === null || time >= filter.from) && (filter.to === null || time < filter.to)) inPeriod++;
  });
  return inPeriod;
}

/**
 * With a witness policy, the period's records must lie at or below a checkpoint that carries
 * the quorum's valid cosignatures (the consistency proofs make every earlier checkpoint a
 * prefix of it); a cosignature by a configured witness that does not verify is a finding.
 * Returns the tree size of the newest checkpoint the quorum cosigned (0: none).
 */
function checkWitnessed(
  bundle: EvidenceBundle,
  signed: VerifiedCheckpoint[],
  policy: WitnessPolicy,
  where: string,
  findings: string[],
): number {
  let witnessed = 0;
  let lastRecords = 0;
  for (const [i, { note, cosignatures, segment }] of bundle.checkpoints.entries()) {
    const at = `${where} checkpoints[${i}]`;
    const { text, signatures } = splitNote(note, at);
    const stored = cosignatures.flatMap((line) => parseSignatureLine(line) ?? []);
    const results = checkCosignatures(text, [...signatures, ...stored], policy.witnesses);
    for (const r of results.filter((c) => !c.valid))
      findings.push(`${at}: the cosignature by witness ${r.witness} does not verify (forged or altered)`);
    const { treeSize } = signed[i]!;
    if (new Set(results.filter((r) => r.valid).map((r) => r.witness)).size >= policy.quorum) witnessed = treeSize;
    if (segment) lastRecords = treeSize;
  }
  const names = policy.witnesses.map((w) => w.name).join(', ');
  if (witnessed === 0)
    findings.push(
      `${where}: no checkpoint carries valid cosignatures by a quorum of ${policy.quorum} of the witnesses ${names}: nothing in it is witnessed`,
    );
  else if (lastRecords > witnessed)
    findings.push(
      `${where}: the period's records up to tree size ${lastRecords} are not all witnessed: the newest checkpoint a quorum of ${policy.quorum} of ${names} cosigned is tree size ${witnessed}; export again after the witnesses ran`,
    );
  return witnessed;
}

/**
 * Verifies a bundle offline: one signature check per checkpoint; the checkpoints cover the
 * log from seq 0 to the bundle's tree size without a gap, each consistent with the one before
 * (RFC 9162 proof); every segment whose signed time span overlaps the period is present, its
 * record hashes lead to its signed root, and its signed tenant directory names exactly the
 * tenant's records the bundle holds there; every record matches its hash and appears once.
 * Keys: `trusted` when given; else the bundle's own keys are used to report what they sign,
 * but the result is untrusted (not ok). Witnesses: see checkWitnessed.
 */
export function verifyEvidenceBundle(
  input: unknown,
  trusted: TrustedKeysFile | undefined,
  where = 'evidence bundle',
  witnesses?: WitnessPolicy,
): BundleReport {
  const bundle = validateWith(EvidenceBundle, input, where);
  const keys = trusted ?? { keys: bundle.publicKeys };
  const { filter } = bundle;
  const findings: string[] = [];
  const signedBy = new Set<string>();
  const signed: VerifiedCheckpoint[] = [];
  const seen = new Set<number>();
  let previous = { treeSize: 0, rootHash: MerkleFrontier.empty().root() };
  let records = 0;
  for (const [i, { note, consistency, segment }] of bundle.checkpoints.entries()) {
    const at = `${where} checkpoints[${i}]`;
    const cp = verifyCheckpoint(note, keys, at);
    signed.push(cp);
    signedBy.add(cp.signedBy.name);
    const span = parseDirectoryLine(cp.extensions);
    if (cp.origin !== bundle.origin) findings.push(`${at}: origin '${cp.origin}', expected '${bundle.origin}'`);
    if (!span) throw new FindingError('checkpoint has no signed tenant directory: the bundle cannot prove completeness', { file: at });
    if (span.firstSeq !== previous.treeSize || span.lastSeq !== cp.treeSize - 1)
      findings.push(
        `${at}: covers seq ${span.firstSeq}..${span.lastSeq}, but the log so far ends at seq ${previous.treeSize - 1} (a checkpoint is missing)`,
      );
    if (
      previous.treeSize > 0 &&
      !verifyConsistency(
        previous.treeSize,
        cp.treeSize,
        previous.rootHash,
        cp.rootHash,
        consistency.map((h) => Buffer.from(h, 'base64')),
      )
    )
      findings.push(`${at}: no valid consistency proof from tree size ${previous.treeSize} to ${cp.treeSize}: not one history`);
    const c: SegmentCheck = { where: at, tenant: filter.tenant, span, cp, previous, findings };
    if (segment) {
      const hashes = checkSegmentHashes(segment, c);
      const lines = parseLines(segment, c);
      checkTenantSeqs(segment, lines, c);
      records += checkRecords(lines, hashes, c, filter, seen);
    } else if (overlaps(span, filter.from, filter.to)) {
      findings.push(
        `${at}: records ${span.firstSeq}..${span.lastSeq} (${span.minTime} .. ${span.maxTime}) overlap the period, but the bundle leaves them out`,
      );
    }
    previous = { treeSize: cp.treeSize, rootHash: cp.rootHash };
  }
  if (previous.treeSize !== bundle.treeSize)
    findings.push(`${where}: the checkpoints end at tree size ${previous.treeSize}, not ${bundle.treeSize}`);
  const witnessed = witnesses && checkWitnessed(bundle, signed, witnesses, where, findings);
  return {
    ok: findings.length === 0 && trusted !== undefined,
    trusted: trusted !== undefined,
    origin: bundle.origin,
    treeSize: bundle.treeSize,
    records,
    recordsInSegments: seen.size,
    checkpoints: bundle.checkpoints.length,
    signedBy: [...signedBy].sort(),
    ...(witnesses ? { witnessed: { quorum: witnesses.quorum, treeSize: witnessed! } } : {}),
    findings,
  };
}
