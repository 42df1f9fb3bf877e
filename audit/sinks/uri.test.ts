import { describe, expect, it } from 'vitest';
import { LocalDirectorySink } from './local.js';
import { S3ObjectLockSink } from './s3.js';
import { sinkFromUri } from './uri.js';

describe('sinkFromUri', () => {
  it('resolves s3:// to an Object Lock sink and anything else to a directory', () => {
    const s3 = sinkFromUri('s3://bucket/a/b', { endpoint: 'http://127.0.0.1:1' });
    expect(s3).toBeInstanceOf(S3ObjectLockSink);
    expect(s3.location).toBe('s3://bucket/a/b/');
    const local = sinkFromUri('/tmp/charter-audit');
    expect(local).toBeInstanceOf(LocalDirectorySink);
    expect(local.location).toBe('/tmp/charter-audit');
  });

  it('rejects what it cannot use, naming the option', () => {
    expect(() => sinkFromUri('s3:///prefix')).toThrow('(--sink): no bucket');
    expect(() => sinkFromUri('gs://bucket/x')).toThrow("(--sink): unsupported sink 'gs://bucket/x'");
    expect(() => new S3ObjectLockSink({ bucket: 'b', retentionDays: 0 })).toThrow('(retentionDays)');
  });
});
