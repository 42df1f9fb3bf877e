import { resolve } from 'node:path';
import { InputError } from '../../common/index.js';
import { LocalDirectorySink } from './local.js';
import { S3ObjectLockSink, type S3ObjectLockSinkOptions } from './s3.js';
import type { SegmentSink } from './sink.js';

/**
 * Resolves a sink reference: `s3://bucket/prefix` (endpoint and credentials from the
 * options or the usual AWS settings, e.g. AWS_ENDPOINT_URL_S3) or a local directory.
 */
export function sinkFromUri(
  uri: string,
  opts: Pick<S3ObjectLockSinkOptions, 'endpoint' | 'region' | 'credentials'> & { retentionDays?: number } = {},
): SegmentSink {
  if (uri.startsWith('s3://')) {
    const [bucket, ...rest] = uri.slice(5).split('/');
    if (!bucket) throw new InputError(`no bucket in '${uri}'`, { field: '--sink' });
    return new S3ObjectLockSink({
      bucket,
      prefix: rest.join('/'),
      retentionDays: opts.retentionDays ?? 1,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri))
    throw new InputError(`unsupported sink '${uri}' (use s3://bucket/prefix or a directory)`, { field: '--sink' });
  return new LocalDirectorySink(resolve(uri));
}
