import { createHash } from 'node:crypto';
import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BREAKERS, FindingError, InputError, errorMessage, type UpstreamGuard, type UpstreamGuardOptions } from '../../common/index.js';
import { OccupiedKeyError, type ByteRange, type SegmentSink, type SinkObject } from './sink.js';

export interface S3ObjectLockSinkOptions {
  bucket: string;
  /** Key prefix inside the bucket (no leading slash), e.g. `audit/prod/`. */
  prefix?: string;
  /** Minimum COMPLIANCE retention the bucket must enforce, and the per-object retention set on each put. */
  retentionDays: number;
  /** A ready client; otherwise one is made by s3ClientFor(endpoint...). */
  client?: S3Client;
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Breaker and deadline on every request to the bucket (default DEFAULT_S3_GUARD). */
  guard?: UpstreamGuardOptions;
}

/** Requests to the bucket: 30 s each; five failures in a row open the bucket's breaker for 30 s (the WAL keeps the records). */
export const DEFAULT_S3_GUARD: UpstreamGuardOptions = { maxConcurrent: 64, timeoutMs: 30_000, failureThreshold: 5, openMs: 30_000 };

/**
 * An S3 client that works against AWS and against radosgw: path-style addressing, and
 * checksums only where an operation requires them (radosgw answers the SDK's streaming
 * trailing-checksum uploads with 411).
 */
export function s3ClientFor(opts: Pick<S3ObjectLockSinkOptions, 'endpoint' | 'region' | 'credentials'>): S3Client {
  const config: S3ClientConfig = {
    region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (opts.endpoint) config.endpoint = opts.endpoint;
  // a copy: the SDK marks the object it is given (a `$source` field)
  if (opts.credentials)
    config.credentials = { accessKeyId: opts.credentials.accessKeyId, secretAccessKey: opts.credentials.secretAccessKey };
  return new S3Client(config);
}

const DAY_MS = 86_400_000;

export interface BucketLock {
  bucket: string;
  objectLock: string;
  defaultMode: string;
  defaultRetentionDays: number;
  versioning: string;
  /** The retention this sink sets on every object it puts. */
  retentionDaysPerObject: number;
}

interface Version {
  versionId: string;
  lastModified: number;
}

/**
 * Segments on S3 with Object Lock in COMPLIANCE mode: write once, no one (root included)
 * can delete or shorten the retention of a stored version before it expires. The sink
 * refuses to start unless the bucket enforces that, and reads always return the first
 * version of a key, so an overwrite (a new version) cannot replace what was sealed.
 */
export class S3ObjectLockSink implements SegmentSink {
  readonly location: string;
  private readonly client: S3Client;
  private readonly prefix: string;
  private readonly guard: UpstreamGuard;
  private readonly guardKey: string;
  /** Oldest version of each key, filled by list(). */
  private readonly originals = new Map<string, string>();

  constructor(private readonly opts: S3ObjectLockSinkOptions) {
    if (!opts.bucket) throw new InputError('S3 sink needs a bucket', { field: 'bucket' });
    if (!Number.isInteger(opts.retentionDays) || opts.retentionDays < 1)
      throw new InputError('retentionDays must be a positive integer', { field: 'retentionDays' });
    this.prefix = opts.prefix ? opts.prefix.replace(/^\/+/, '').replace(/\/*$/, '/') : '';
    this.client = opts.client ?? s3ClientFor(opts);
    this.location = `s3://${opts.bucket}/${this.prefix}`;
    this.guard = BREAKERS.guard('audit-s3', opts.guard ?? DEFAULT_S3_GUARD);
    this.guardKey = `${opts.endpoint ?? 'aws'}|${opts.bucket}`;
  }

  /** One request to the bucket under the breaker and its deadline. */
  private send<T>(request: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return this.guard.run(this.guardKey, request);
  }

  /** The bucket's Object Lock configuration and versioning, as the server reports them. */
  async lockConfiguration(): Promise<BucketLock> {
    let lock;
    try {
      lock = await this.send((abortSignal) =>
        this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.opts.bucket }), { abortSignal }),
      );
    } catch (err) {
      throw new FindingError(`bucket has no Object Lock configuration; refusing to write audit segments (${errorMessage(err)})`, {
        file: this.location,
      });
    }
    const cfg = lock.ObjectLockConfiguration;
    const rule = cfg?.Rule?.DefaultRetention;
    const versioning = await this.send((abortSignal) =>
      this.client.send(new GetBucketVersioningCommand({ Bucket: this.opts.bucket }), { abortSignal }),
    );
    return {
      bucket: this.opts.bucket,
      objectLock: cfg?.ObjectLockEnabled ?? 'disabled',
      defaultMode: rule?.Mode ?? 'none',
      defaultRetentionDays: (rule?.Days ?? 0) + (rule?.Years ?? 0) * 365,
      versioning: versioning.Status ?? 'off',
      retentionDaysPerObject: this.opts.retentionDays,
    };
  }

  /** Refuses to run unless versioning is on and the default retention is COMPLIANCE for at least retentionDays. */
  async open(): Promise<void> {
    const where = { file: this.location };
    const lock = await this.lockConfiguration();
    if (lock.objectLock !== 'Enabled' || lock.defaultMode !== 'COMPLIANCE' || lock.defaultRetentionDays < this.opts.retentionDays) {
      throw new FindingError(
        `bucket Object Lock must default to COMPLIANCE retention of at least ${this.opts.retentionDays} days (found ${lock.objectLock}, ${lock.defaultMode === 'none' ? 'no default mode' : lock.defaultMode}, ${lock.defaultRetentionDays} days); refusing to write audit segments`,
        where,
      );
    }
    if (lock.versioning !== 'Enabled')
      throw new FindingError(`bucket versioning is ${lock.versioning}; refusing to write audit segments`, where);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    // Re-sealing after a crash writes the same bytes again: keep one version when they match.
    const existing = await this.get(key);
    if (existing) {
      if (Buffer.from(existing).equals(body)) return;
      throw new OccupiedKeyError('refusing to write different content over a sealed object', { file: `${this.location}${key}` });
    }
    const out = await this.send((abortSignal) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.opts.bucket,
          Key: this.prefix + key,
          Body: body,
          // AWS requires an integrity header on puts with lock parameters
          ContentMD5: createHash('md5').update(body).digest('base64'),
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() + this.opts.retentionDays * DAY_MS),
        }),
        { abortSignal },
      ),
    );
    if (out.VersionId) this.originals.set(key, out.VersionId);
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    let versionId = this.originals.get(key);
    if (!versionId) {
      const versions = (await this.versions(this.prefix + key)).get(key);
      versionId = versions?.versions[0]?.versionId;
      if (!versionId) return undefined;
      this.originals.set(key, versionId);
    }
    const out = await this.send((abortSignal) =>
      this.client.send(
        new GetObjectCommand({
          Bucket: this.opts.bucket,
          Key: this.prefix + key,
          VersionId: versionId,
          ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        }),
        { abortSignal },
      ),
    );
    return out.Body ? out.Body.transformToByteArray() : undefined;
  }

  async list(prefix: string): Promise<SinkObject[]> {
    const out: SinkObject[] = [];
    for (const [key, { versions, deleteMarkers }] of await this.versions(this.prefix + prefix)) {
      const first = versions[0];
      if (!first) continue;
      this.originals.set(key, first.versionId);
      const warnings: string[] = [];
      if (versions.length > 1)
        warnings.push(
          `${versions.length} versions: written again after sealing; the original version ${first.versionId} is the one verified`,
        );
      // Someone with write access tried to delete sealed evidence: the lock kept it, but an auditor must hear of it.
      const findings =
        deleteMarkers > 0
          ? [`${deleteMarkers} delete marker(s): a delete was attempted; the locked original version ${first.versionId} is still there`]
          : [];
      out.push({ key, warnings, findings });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Every version of every key under a full prefix, oldest first. */
  private async versions(fullPrefix: string): Promise<Map<string, { versions: Version[]; deleteMarkers: number }>> {
    const byKey = new Map<string, { versions: Version[]; deleteMarkers: number }>();
    const entry = (k: string) => {
      const key = k.slice(this.prefix.length);
      let e = byKey.get(key);
      if (!e) byKey.set(key, (e = { versions: [], deleteMarkers: 0 }));
      return e;
    };
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await this.send((abortSignal) =>
        this.client.send(
          new ListObjectVersionsCommand({
            Bucket: this.opts.bucket,
            Prefix: fullPrefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
          { abortSignal },
        ),
      );
      for (const v of page.Versions ?? []) {
        if (v.Key && v.VersionId) entry(v.Key).versions.push({ versionId: v.VersionId, lastModified: v.LastModified?.getTime() ?? 0 });
      }
      for (const m of page.DeleteMarkers ?? []) if (m.Key) entry(m.Key).deleteMarkers++;
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    // S3 lists versions newest first; a stable sort keeps that order among equal timestamps, so reverse first.
    for (const e of byKey.values()) e.versions.reverse().sort((a, b) => a.lastModified - b.lastModified);
    if (fullPrefix.endsWith('/')) return byKey;
    // a single-key lookup: drop keys that merely share the prefix
    return new Map([...byKey].filter(([k]) => this.prefix + k === fullPrefix));
  }
}
