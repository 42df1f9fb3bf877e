import { z } from 'zod';
import { errorMessage, InputError, validateWith } from '../common/index.js';
import { TrustedKey, type TrustedKeysFile } from '../signing/index.js';
import { verifyCheckpoint } from './checkpoint.js';
import { verifyInclusionProof, treeAtLatest } from './proof.js';
import { normaliseTime } from './query.js';
import { SealedRecord } from './record.js';
import { openReader, type AuditReadOptions } from './reader.js';
import { Base64Hash } from './segment.js';

/**
 * An evidence bundle: one tenant's records over a time range, each with its inclusion proof
 * against one signed checkpoint, and the public key(s) that signed it. It verifies offline,
 * on its own; whoever receives it should check the key ids against ones they trust.
 */
export const EvidenceBundle = z.object({
  format: z.literal('charter.audit.evidence-bundle/v1'),
  origin: z.string().min(1),
  filter: z.object({ tenant: z.string().min(1), from: z.string().nullable(), to: z.string().nullable() }),
  treeSize: z.number().int().positive(),
  checkpoint: z.string().min(1),
  publicKeys: z.array(TrustedKey).min(1),
  records: z.array(z.object({ record: SealedRecord, auditPath: z.array(Base64Hash) })),
});
export type EvidenceBundle = z.infer<typeof EvidenceBundle>;

export interface BundleReport {
  /** No findings, and the checkpoint is signed by a key the verifier brought (not one from the bundle). */
  ok: boolean;
  trusted: boolean;
  origin: string;
  treeSize: number;
  records: number;
  signedBy: string[];
  findings: string[];
}

export async function exportEvidenceBundle(
  opts: AuditReadOptions & { tenant: string; from?: string; to?: string; trustedKeys: TrustedKeysFile },
): Promise<EvidenceBundle> {
  const from = opts.from !== undefined ? normaliseTime(opts.from, 'from') : null;
  const to = opts.to !== undefined ? normaliseTime(opts.to, 'to') : null;
  const reader = await openReader(opts);
  try {
    const { tree, note } = treeAtLatest(reader);
    const signer = verifyCheckpoint(note, opts.trustedKeys, reader.sink.location).signedBy;
    const rows = reader.index.query({ tenant: opts.tenant, ...(from ? { from } : {}), ...(to ? { to } : {}) });
    return {
      format: 'charter.audit.evidence-bundle/v1',
      origin: reader.latest!.origin,
      filter: { tenant: opts.tenant, from, to },
      treeSize: tree.size,
      checkpoint: note,
      publicKeys: [signer],
      records: rows.map(({ record }) => ({ record, auditPath: tree.inclusionProof(record.seq).map((h) => h.toString('base64')) })),
    };
  } finally {
    reader.close();
  }
}

/**
 * Verifies a bundle offline: every record's inclusion proof against the bundle's checkpoint,
 * that every record matches the bundle's filter and that none appears twice. Keys: `trusted`
 * when given; else the bundle's own public keys are used to report what they sign, but the
 * result is untrusted (not ok): whoever made the bundle chose those keys.
 */
export function verifyEvidenceBundle(input: unknown, trusted: TrustedKeysFile | undefined, where = 'evidence bundle'): BundleReport {
  const bundle = validateWith(EvidenceBundle, input, where);
  const keys = trusted ?? { keys: bundle.publicKeys };
  const cp = verifyCheckpoint(bundle.checkpoint, keys, where);
  if (cp.treeSize !== bundle.treeSize || cp.origin !== bundle.origin)
    throw new InputError('bundle tree size or origin does not match its checkpoint', { file: where });
  const findings: string[] = [];
  const seen = new Map<number, number>();
  bundle.records.forEach(({ record, auditPath }, i) => {
    const at = `${where} records[${i}]`;
    const first = seen.get(record.seq);
    if (first !== undefined) findings.push(`${at}: record seq ${record.seq} (id ${record.id}) appears again (first at records[${first}])`);
    else seen.set(record.seq, i);
    try {
      verifyInclusionProof(
        { format: 'charter.audit.inclusion-proof/v1', record, treeSize: bundle.treeSize, auditPath, checkpoint: bundle.checkpoint },
        keys,
        at,
      );
    } catch (err) {
      findings.push(errorMessage(err));
    }
    const { from, to, tenant } = bundle.filter;
    if (record.tenantId !== tenant || (from && record.time < from) || (to && record.time >= to)) {
      findings.push(`${at}: record ${record.id} is outside the bundle's filter (tenant ${tenant}, ${from ?? '-'} .. ${to ?? '-'})`);
    }
  });
  return {
    ok: findings.length === 0 && trusted !== undefined,
    trusted: trusted !== undefined,
    origin: cp.origin,
    treeSize: cp.treeSize,
    records: bundle.records.length,
    signedBy: [cp.signedBy.name],
    findings,
  };
}
