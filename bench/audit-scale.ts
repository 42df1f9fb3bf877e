// Benchmark: the auditor's side of the trail at scale (default 100,000 records so that `npm run bench`
// stays near a minute; AUDIT_BENCH_RECORDS=1000000 is the scale; kept out of npm test): verify, prove, export of one tenant's period and verify --bundle,
// every query filter the CLI offers, and the index's size per record. The log is built by sealing
// segments of 10,000 chained records straight into a local sink (the writer's own speed is
// audit-append's figure); the index is then synced from the segments as a reader would.
// Beside them, in the same run: SHA-256 throughput, the disk's fdatasync, a raw SQLite indexed query.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuditIndex,
  bundleRecords,
  exampleDecision,
  exportEvidenceBundle,
  LocalDirectorySink,
  proveInclusion,
  queryAudit,
  rebuildIndex,
  verifyAuditLog,
  verifyEvidenceBundle,
  type AuditQuery,
} from '../audit/index.js';
import { LocalKeySigner, trustedKeyFromPublicKey } from '../signing/index.js';
import { buildSealedLog } from './fixtures/audit-log.js';
import { emit, figure, inRounds, limits, summarize } from './harness.js';

const N = Number(process.env.AUDIT_BENCH_RECORDS ?? 100_000);
const SEGMENT = 10_000;
const START = Date.parse('2026-10-01T00:00:00.000Z');
const SPAN_MS = 30 * 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-scale-'));

try {
  const signer = new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
  const trustedKeys = { keys: [trustedKeyFromPublicKey(signer.publicKey, 'bench', ['audit-checkpoint'])] };
  const t0 = performance.now();
  const ids = await buildSealedLog(dir, signer, { records: N, segment: SEGMENT, start: START, spanMs: SPAN_MS });
  const buildSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await rebuildIndex({ dir });
  const indexSeconds = (performance.now() - t1) / 1000;
  const indexFile = join(dir, 'index.sqlite');
  const indexBytes = statSync(indexFile).size + (statSync(`${indexFile}-wal`, { throwIfNoEntry: false })?.size ?? 0);

  const sha = summarize([limits.sha256MegabytesPerSecond(), limits.sha256MegabytesPerSecond(), limits.sha256MegabytesPerSecond()]);
  const fsync = summarize([limits.fdatasyncMs(dir)]);
  // the floor of one verify: every record's body hashed once (about 800 bytes a record)
  const shaRecordsPerSecond = summarize(sha.rounds.map((mb) => (mb * 1e6) / 800));

  const verify = await inRounds(async () => {
    const s = performance.now();
    const report = await verifyAuditLog({ sink: new LocalDirectorySink(dir), trustedKeys });
    if (!report.ok || report.records !== N) throw new Error(`verify failed: ${JSON.stringify(report.findings.slice(0, 3))}`);
    return N / ((performance.now() - s) / 1000);
  }, 3);

  const prove = await inRounds(async (r) => {
    const s = performance.now();
    await proveInclusion({ dir, recordId: ids[Math.floor(((r + 1) * N) / 7)]! });
    return performance.now() - s;
  });

  // one tenant (a third of the records) over a period holding about 100,000 of its records
  const from = new Date(START + 10 * 86_400_000).toISOString();
  const to = new Date(START + 10 * 86_400_000 + Math.round((300_000 / N) * SPAN_MS)).toISOString();
  let bundle = await exportEvidenceBundle({ dir, tenant: 'acme', from, to, trustedKeys });
  const exported = await inRounds(async () => {
    const s = performance.now();
    bundle = await exportEvidenceBundle({ dir, tenant: 'acme', from, to, trustedKeys });
    return performance.now() - s;
  }, 3);
  const bundleJson = JSON.stringify(bundle);
  const inBundle = bundleRecords(bundle).length;
  const verifyBundle = await inRounds(async () => {
    const s = performance.now();
    const report = verifyEvidenceBundle(JSON.parse(bundleJson), trustedKeys);
    if (!report.ok) throw new Error(`bundle failed: ${report.findings.slice(0, 3).join('; ')}`);
    return report.recordsInSegments / ((performance.now() - s) / 1000);
  }, 3);

  const filters: Record<string, AuditQuery> = {
    tenant: { tenant: 'globex' },
    tenantHour: {
      tenant: 'globex',
      from: new Date(START + 15 * 86_400_000).toISOString(),
      to: new Date(START + 15 * 86_400_000 + 3_600_000).toISOString(),
    },
    agent: { agent: 'contract-award' },
    tool: { tool: 'submit_bid' },
    rareTool: { tool: 'rare_tool' },
    decision: { decision: 'deny' },
    tier: { tier: 'critical' },
    kind: { kind: 'decision' },
    traceId: { traceId: `trace-${Math.floor(N / 20)}` },
    manifestDigest: { manifestDigest: exampleDecision(1).manifestDigest! },
    timeRange: { from: new Date(START + 20 * 86_400_000).toISOString(), to: new Date(START + 21 * 86_400_000).toISOString() },
  };
  // Each query beside the index's own SQL for the same filter (the rows it locates, nothing read):
  // the rest is reading and checking the records from their sealed segment members.
  const index = AuditIndex.open(indexFile);
  const queries: Record<string, unknown> = {};
  for (const [name, filter] of Object.entries(filters)) {
    let rows = 0;
    const sql = await inRounds(() => {
      const s = performance.now();
      index.query({ ...filter, limit: 1_000 });
      return performance.now() - s;
    });
    const ms = await inRounds(async () => {
      const s = performance.now();
      rows = (await queryAudit({ dir, ...filter, limit: 1_000 })).length;
      return performance.now() - s;
    });
    queries[name] = {
      rows,
      ...figure(ms, { unit: 'ms', lowerIsBetter: true, limit: { what: 'the SQLite query alone', sampled: sql }, aim: 500 }),
    };
  }
  index.close();

  emit('audit-scale', {
    records: N,
    buildSeconds: Number(buildSeconds.toFixed(1)),
    indexSyncSeconds: Number(indexSeconds.toFixed(1)),
    limits: { sha256MBps: sha, fdatasyncMs: fsync },
    verifyRecordsPerSecond: figure(verify, {
      unit: 'records/s',
      lowerIsBetter: false,
      limit: { what: 'SHA-256 of each record body on one core', sampled: shaRecordsPerSecond },
      aim: 200_000,
    }),
    proveMs: figure(prove, {
      unit: 'ms',
      lowerIsBetter: true,
      // what a proof must at least read and hash: one 64-record segment member
      limit: { what: 'SHA-256 of one 64-record member (~70 KB)', sampled: summarize(sha.rounds.map((mb) => (64 * 1100) / (mb * 1e3))) },
      aim: 50,
    }),
    exportMs: {
      records: inBundle,
      bytes: bundleJson.length,
      ...figure(exported, {
        unit: 'ms',
        lowerIsBetter: true,
        limit: { what: "SHA-256 of the bundle's bytes", sampled: summarize(sha.rounds.map((mb) => bundleJson.length / (mb * 1e3))) },
        aim: 3_000,
      }),
    },
    verifyBundleRecordsPerSecond: figure(verifyBundle, {
      unit: 'records/s',
      lowerIsBetter: false,
      limit: { what: 'SHA-256 of each record body on one core', sampled: shaRecordsPerSecond },
      aim: 50_000,
    }),
    indexBytesPerRecord: Math.round(indexBytes / N),
    queries,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
