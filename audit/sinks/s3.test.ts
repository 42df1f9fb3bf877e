import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { tempLog, type TempLog } from '../fixtures/temp-log.js';
import { checkpointKey, listCheckpointKeys, segmentKey } from '../segment.js';
import {
  exampleDecision,
  openHomeAuditLog,
  proveInclusion,
  queryAudit,
  S3ObjectLockSink,
  s3ClientFor,
  startLocalObjectLockS3,
  verifyAuditLog,
  verifyInclusionProof,
  writeAuditSettings,
  type LocalObjectLockS3,
} from '../index.js';

let s3: LocalObjectLockS3;
let client: S3Client;
let t: TempLog;

beforeAll(async () => {
  s3 = await startLocalObjectLockS3(); // throws (the suite fails) when radosgw cannot start
  client = s3ClientFor(s3);
  t = tempLog();
}, 120_000);
afterAll(async () => {
  client?.destroy();
  t?.remove();
  await s3?.stop();
});

const sinkFor = (bucket: string, retentionDays = 1) =>
  new S3ObjectLockSink({ bucket, prefix: 'audit/prod', retentionDays, endpoint: s3.endpoint, credentials: s3.credentials });

describe('S3 Object Lock sink against a local radosgw', () => {
  it('refuses buckets that do not enforce COMPLIANCE retention long enough', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await expect(sinkFor('plain').open()).rejects.toThrow(/no Object Lock configuration; refusing/);
    await client.send(new CreateBucketCommand({ Bucket: 'governance', ObjectLockEnabledForBucket: true }));
    await client.send(
      new PutObjectLockConfigurationCommand({
        Bucket: 'governance',
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
      }),
    );
    await expect(sinkFor('governance').open()).rejects.toThrow(
      /COMPLIANCE retention of at least 1 days \(found Enabled, GOVERNANCE, 30 days\)/,
    );
    await s3.createLockedBucket('short', 1);
    await expect(sinkFor('short', 7).open()).rejects.toThrow(/at least 7 days/);
    await expect(t.open({ sink: sinkFor('plain') })).rejects.toThrow(/refusing/);
  });

  it('seals locked segments; deleting or overwriting them is refused or leaves the original, and verify still finds it', async () => {
    await s3.createLockedBucket('audit', 1);
    const sink = sinkFor('audit');
    const log = await t.open({ sink, sealEveryRecords: 20 });
    for (let i = 0; i < 45; i++) await log.append(exampleDecision(i));
    await log.close();

    // a second writer session continues the same log from the state in S3
    const again = await t.open({ sink: sinkFor('audit') });
    expect(again.size).toBe(45);
    await again.append(exampleDecision(45));
    await again.close();

    const clean = await verifyAuditLog({ sink: sinkFor('audit'), trustedKeys: t.trusted });
    expect(clean).toMatchObject({ ok: true, records: 46, treeSize: 46, warnings: [] });

    const listed = await client.send(new ListObjectVersionsCommand({ Bucket: 'audit', Prefix: 'audit/prod/segments/' }));
    const segment = listed.Versions![0]!;
    const head = await client.send(new HeadObjectCommand({ Bucket: 'audit', Key: segment.Key!, VersionId: segment.VersionId! }));
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
    expect(head.ObjectLockRetainUntilDate!.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);

    // the server refuses to delete the locked version, even with the governance bypass
    await expect(
      client.send(new DeleteObjectCommand({ Bucket: 'audit', Key: segment.Key!, VersionId: segment.VersionId! })),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(
      client.send(
        new DeleteObjectCommand({ Bucket: 'audit', Key: segment.Key!, VersionId: segment.VersionId!, BypassGovernanceRetention: true }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    // an overwrite only adds a version; a plain delete only adds a delete marker
    await client.send(new PutObjectCommand({ Bucket: 'audit', Key: segment.Key!, Body: 'forged segment' }));
    const cp = (await client.send(new ListObjectVersionsCommand({ Bucket: 'audit', Prefix: 'audit/prod/checkpoints/' }))).Versions![0]!;
    await client.send(new DeleteObjectCommand({ Bucket: 'audit', Key: cp.Key! }));

    const after = await verifyAuditLog({ sink: sinkFor('audit'), trustedKeys: t.trusted });
    // the attempted delete is a finding (the lock kept the original, which still verifies)
    const cpRel = cp.Key!.slice('audit/prod/'.length);
    expect(after.findings).toEqual([
      expect.objectContaining({
        kind: 'store',
        key: cpRel,
        message: expect.stringMatching(/1 delete marker\(s\): a delete was attempted/),
      }),
    ]);
    expect(after.ok).toBe(false);
    expect(after.records).toBe(46);
    const cli = await runCli(
      ['audit', 'verify', '--sink', 's3://audit/audit/prod', '--s3-endpoint', s3.endpoint, '--trusted-keys', t.trustedFile],
      t.home,
      undefined,
      { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey, AWS_REGION: 'us-east-1' },
    );
    expect(cli.code, cli.stdout + cli.stderr).toBe(1);
    expect(cli.stdout).toMatch(/\[store\] .*delete marker/);
    const rel = segment.Key!.slice('audit/prod/'.length);
    expect(after.warnings).toContainEqual(
      expect.stringMatching(new RegExp(`^${rel}: 2 versions: written again after sealing; the original version ${segment.VersionId!}`)),
    );

    // re-sealing after a crash stores the same bytes again: no new version; different bytes are refused
    const cpKey = cp.Key!.slice('audit/prod/'.length);
    const original = await sinkFor('audit').get(cpKey);
    await sinkFor('audit').put(cpKey, original!);
    await expect(sinkFor('audit').put(cpKey, Buffer.from('{}'))).rejects.toThrow(/refusing to write different content/);
    const cpVersions = await client.send(new ListObjectVersionsCommand({ Bucket: 'audit', Prefix: cp.Key! }));
    expect(cpVersions.Versions).toHaveLength(1);

    // the index for queries is rebuilt from the originals too
    const acme = await queryAudit({ dir: `${t.home}/reader`, sink: sinkFor('audit'), tenant: 'acme' });
    expect(acme).toHaveLength(16);
  });
});

describe('the S3 writer and the home setting', () => {
  it('an object it did not write, locked for a year at checkpoints/000000999999.json, is passed over and reported', async () => {
    await s3.createLockedBucket('planted', 1);
    const sink = () => sinkFor('planted');
    const t = tempLog(); // a writer of its own (the shared one's state belongs to the 'audit' bucket)
    onTestFinished(() => t.remove());
    const first = await t.open({ sink: sink(), sealEveryRecords: 10 });
    for (let i = 0; i < 25; i++) await first.append(exampleDecision(i));
    await first.close();
    await client.send(
      new PutObjectCommand({
        Bucket: 'planted',
        Key: 'audit/prod/checkpoints/000000999999.json',
        Body: '{"format":"charter.audit.checkpoint/v1"}',
        ContentMD5: createHash('md5').update('{"format":"charter.audit.checkpoint/v1"}').digest('base64'),
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 365 * 86_400_000),
      }),
    );
    const recovered: string[] = [];
    const again = await t.open({ sink: sink(), onRecovery: (m) => recovered.push(m) });
    expect(recovered).toEqual([expect.stringMatching(/^checkpoints\/000000999999\.json in s3:\/\/planted\/audit\/prod\/: passed over/)]);
    expect(again.size).toBe(25);
    await again.append(exampleDecision(25));
    await again.close();
    expect(await queryAudit({ dir: `${t.home}/planted-reader`, sink: sink() })).toHaveLength(26);
    // for verify the planted object is a finding naming it; the log's own records all verify
    const report = await verifyAuditLog({ sink: sink(), trustedKeys: t.trusted });
    expect(report).toMatchObject({ ok: false, records: 26, treeSize: 26 });
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: 'checkpoint', key: 'checkpoints/000000999999.json', message: expect.stringMatching(/unreadable/) }),
    ]);
  });

  it('objects planted at the keys of the next segment and checkpoint do not stop the writer; verify names them', async () => {
    await s3.createLockedBucket('occupied', 1);
    const sink = () => sinkFor('occupied');
    const w = tempLog();
    onTestFinished(() => w.remove());
    const first = await w.open({ sink: sink(), sealEveryRecords: 10, sealEveryMs: 600_000 });
    for (let i = 0; i < 20; i++) await first.append(exampleDecision(i));
    await first.close();
    const size = (await listCheckpointKeys(sink())).at(-1)!.treeSize;
    // someone with write access puts locked objects exactly where the next seal (5 records) goes
    const planted = [checkpointKey(size + 5), segmentKey(size, size + 4, new Date().toISOString())];
    for (const key of planted) {
      const body = `{"planted":"${key}"}`;
      await client.send(
        new PutObjectCommand({
          Bucket: 'occupied',
          Key: `audit/prod/${key}`,
          Body: body,
          ContentMD5: createHash('md5').update(body).digest('base64'),
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() + 365 * 86_400_000),
        }),
      );
    }
    const second = await w.open({ sink: sink(), sealEveryRecords: 10, sealEveryMs: 600_000 });
    const records = Array.from({ length: 5 }, (_, i) => exampleDecision(size + i));
    for (const r of records) await second.append(r);
    await second.close(); // before: the seal failed ("refusing to write different content") and was retried for ever
    const third = await w.open({ sink: sink(), sealEveryRecords: 10, sealEveryMs: 600_000 });
    expect(third.size).toBe(size + 5);
    await third.append(exampleDecision(size + 5));
    await third.close();

    const keys = (await listCheckpointKeys(sink())).map((c) => c.key);
    expect(keys).toContain(`${checkpointKey(size + 5).slice(0, -5)}.1.json`);
    expect(await queryAudit({ dir: `${w.home}/occupied-reader`, sink: sink() })).toHaveLength(size + 6);
    const proof = await proveInclusion({ dir: `${w.home}/occupied-reader`, sink: sink(), recordId: records[2]!.id });
    expect(verifyInclusionProof(proof, w.trusted)).toMatchObject({ seq: size + 2, treeSize: size + 6 });
    const report = await verifyAuditLog({ sink: sink(), trustedKeys: w.trusted });
    expect(report).toMatchObject({ ok: false, records: size + 6, treeSize: size + 6 });
    expect(report.findings.map((f) => [f.kind, f.key])).toEqual([
      ['inserted', planted[0]],
      ['inserted', planted[1]],
    ]);
  });

  it('every writer and reader of a home follows its config.yaml; the environment and --sink override it', async () => {
    await s3.createLockedBucket('home-trail', 2);
    const home = tempLog();
    try {
      writeAuditSettings(home.home, {
        sink: 's3://home-trail/charter',
        endpoint: s3.endpoint,
        retentionDays: 2,
        credentials: s3.credentials,
      });
      const input = [0, 1, 2].map((i) => JSON.stringify(exampleDecision(i))).join('\n') + '\n';
      const append = await runCli(['audit', 'append', '--key', home.keyFile, '--origin', 'charter.test/audit'], home.home, input);
      expect(append.code, append.stderr).toBe(0);
      const listed = await client.send(new ListObjectVersionsCommand({ Bucket: 'home-trail', Prefix: 'charter/segments/' }));
      expect(listed.Versions).toHaveLength(1);
      expect(existsSync(join(home.dir, 'segments'))).toBe(false); // nothing in the development directory sink

      // a writer opened through the home (as the gateway, negotiations, evals and releases open it)
      const log = await openHomeAuditLog({ home: home.home, signer: home.signer, origin: 'charter.test/audit' });
      expect(log.size).toBe(3);
      await log.append(exampleDecision(3));
      await log.close();

      const verify = await runCli(['audit', 'verify', '--trusted-keys', home.trustedFile], home.home);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/^OK: s3:\/\/home-trail\/charter\/: 4 record\(s\)/);
      const where = JSON.parse((await runCli(['audit', 'sink', '--json'], home.home)).stdout) as Record<string, unknown>;
      expect(where).toMatchObject({
        location: 's3://home-trail/charter/',
        kind: 's3-object-lock',
        lock: { objectLock: 'Enabled', defaultMode: 'COMPLIANCE', defaultRetentionDays: 2, versioning: 'Enabled' },
      });

      process.env.CHARTER_AUDIT_SINK = 'local';
      try {
        expect((await runCli(['audit', 'sink'], home.home)).stdout).toMatch(/local directory sink \(for development/);
      } finally {
        delete process.env.CHARTER_AUDIT_SINK;
      }
      const flag = await runCli(['audit', 'sink', '--sink', 'local', '--json'], home.home);
      expect(JSON.parse(flag.stdout)).toMatchObject({ location: home.dir, kind: 'local-directory' });
    } finally {
      home.remove();
    }
  }, 180_000);
});
