import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../fixtures/cli.js';
import { tempLog, type TempLog } from '../fixtures/temp-log.js';
import {
  exampleDecision,
  queryAudit,
  S3ObjectLockSink,
  s3ClientFor,
  startLocalObjectLockS3,
  verifyAuditLog,
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
