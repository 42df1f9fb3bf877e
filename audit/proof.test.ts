import { afterEach, describe, expect, it } from 'vitest';
import { FindingError, InputError } from '../common/index.js';
import { tempLog, type TempLog } from './fixtures/temp-log.js';
import {
  bundleRecords,
  exampleDecision,
  exportEvidenceBundle,
  proveInclusion,
  verifyEvidenceBundle,
  verifyInclusionProof,
} from './index.js';

let t: TempLog;
afterEach(() => t?.remove());

describe('inclusion proofs and evidence bundles', () => {
  it('proves every record against the newest checkpoint, offline', async () => {
    t = tempLog();
    const ids = await t.fill(37, { sealEveryRecords: 10 });
    for (const [seq, id] of ids.entries()) {
      const proof = await proveInclusion({ dir: t.dir, recordId: id });
      expect(proof.treeSize).toBe(37);
      // a JSON round trip: what an auditor receives as a file
      expect(verifyInclusionProof(JSON.parse(JSON.stringify(proof)), t.trusted)).toEqual({
        recordId: id,
        seq,
        treeSize: 37,
        origin: 'charter.test/audit',
        signedBy: 'audit',
      });
    }
  });

  it('rejects a modified record, a wrong path, an untrusted key and malformed input', async () => {
    t = tempLog();
    const ids = await t.fill(9);
    const proof = await proveInclusion({ dir: t.dir, recordId: ids[4]! });
    const modified = {
      ...proof,
      record: { ...proof.record, decision: proof.record.kind === 'decision' && proof.record.decision === 'allow' ? 'deny' : 'allow' },
    };
    expect(() => verifyInclusionProof(modified, t.trusted)).toThrow(/does not match its hash: modified/);
    const moved = { ...proof, auditPath: [...proof.auditPath].reverse() };
    expect(() => verifyInclusionProof(moved, t.trusted)).toThrow(/not included/);
    expect(() => verifyInclusionProof(proof, { keys: [] })).toThrow(FindingError);
    expect(() => verifyInclusionProof({ ...proof, treeSize: 'nine' }, t.trusted, 'p.json')).toThrow(/p.json \(treeSize\)/);
    await expect(proveInclusion({ dir: t.dir, recordId: exampleDecision(0).id })).rejects.toThrow(InputError);
  });

  it('exports a tenant bundle that verifies on its own and fails when edited', async () => {
    t = tempLog();
    await t.fill(30, { sealEveryRecords: 8 });
    const bundle = await exportEvidenceBundle({ dir: t.dir, tenant: 'globex', trustedKeys: t.trusted });
    expect(bundleRecords(bundle)).toHaveLength(10);
    expect(bundleRecords(bundle).every((r) => r.tenantId === 'globex')).toBe(true);
    const offline = JSON.parse(JSON.stringify(bundle)) as unknown;
    // the bundle's own key shows who signed, but is no trust: only the auditor's keys make it ok
    expect(verifyEvidenceBundle(offline, undefined)).toMatchObject({ ok: false, trusted: false, findings: [], records: 10, treeSize: 30 });
    expect(verifyEvidenceBundle(offline, t.trusted)).toMatchObject({ ok: true, records: 10, signedBy: ['audit'] });

    const edited = JSON.parse(JSON.stringify(bundle)) as typeof bundle;
    const part = edited.checkpoints.find((c) => c.segment && c.segment.records.length > 0)!.segment!;
    part.records[0] = part.records[0]!.replace('"tenantId":"globex"', '"tenantId":"acme"');
    const report = verifyEvidenceBundle(edited, t.trusted);
    expect(report.ok).toBe(false);
    expect(report.findings.join('\n')).toMatch(/records\[0\]: record seq \d+ .* does not match its hash: modified/);
    expect(report.findings.join('\n')).toMatch(/belongs to tenant acme, not globex/);

    const later = await exportEvidenceBundle({ dir: t.dir, tenant: 'globex', from: '2999-01-01T00:00:00Z', trustedKeys: t.trusted });
    expect(bundleRecords(later)).toEqual([]);
    expect(verifyEvidenceBundle(later, t.trusted)).toMatchObject({ ok: true, records: 0 });
    await expect(exportEvidenceBundle({ dir: t.dir, tenant: 'globex', from: 'yesterday', trustedKeys: t.trusted })).rejects.toThrow(
      /not a date\/time/,
    );
  });
});
