import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { contentPath } from '../../common/index.js';
import { s3ClientFor } from '../sinks/s3.js';

export interface LocalObjectLockS3 {
  endpoint: string;
  /** The cluster's state directory. */
  dir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Creates a bucket with Object Lock, COMPLIANCE default retention of `days` days. */
  createLockedBucket(name: string, days: number): Promise<void>;
  /** Kills the daemons and deletes the cluster's state directory; with `keep`, stops them cleanly and keeps it. */
  stop(): Promise<void>;
  /** The shell command that starts this (kept) cluster again on the same ports. */
  restartCommand: string;
}

const run = promisify(execFile);
const script = contentPath('audit', 'object-lock-s3', 'object-lock-s3.sh');

/** A free TCP port on 127.0.0.1 whose successor is free too (the mon listens on both). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
      srv.on('error', reject);
    });
    if (port < 65000) {
      const next = await new Promise<boolean>((resolve) => {
        const srv = createServer().listen(port + 1, '127.0.0.1', () => srv.close(() => resolve(true)));
        srv.on('error', () => resolve(false));
      });
      if (next) return port;
    }
  }
  throw new Error('no free port pair on 127.0.0.1');
}

/**
 * Starts a single-node Ceph radosgw (memstore) with the project's script, on free loopback
 * ports, so tests and benchmarks can run side by side. By default it is throw-away: a fresh
 * temp directory, deleted by stop(). With `keep`, the cluster lives in that directory and
 * stop() shuts it down cleanly (memstore writes its data out), so `restartCommand` brings the
 * same objects back. Throws (never skips) when it cannot start: run audit/object-lock-s3/install.sh first.
 */
export async function startLocalObjectLockS3(opts: { keep?: string } = {}): Promise<LocalObjectLockS3> {
  const dir = opts.keep ?? mkdtempSync(join(tmpdir(), 'charter-ols3-'));
  const port = String(await freePortPair());
  const env = {
    ...process.env,
    OLS3_DIR: opts.keep ?? join(dir, 'cluster'),
    OLS3_PORT: port,
    OLS3_MON_PORT: String(await freePortPair()),
    OLS3_MEM_BYTES: String(1024 ** 3),
  };
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [script, 'fresh'], { env, timeout: 120_000 }));
  } catch (err) {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`could not start the local Object Lock S3 (${script}): ${e.stderr?.trim() || e.message}`, { cause: err });
  }
  const value = (name: string): string => {
    const m = new RegExp(`^${name}=(.*)$`, 'm').exec(stdout);
    if (!m) throw new Error(`${script} printed no ${name}`);
    return m[1]!;
  };
  const endpoint = value('S3_ENDPOINT');
  const credentials = { accessKeyId: value('S3_ACCESS_KEY'), secretAccessKey: value('S3_SECRET_KEY') };
  const client = s3ClientFor({ endpoint, credentials });
  return {
    endpoint,
    dir: env.OLS3_DIR,
    credentials,
    restartCommand: `OLS3_DIR=${env.OLS3_DIR} OLS3_PORT=${port} bash ${script} start`,
    async createLockedBucket(name, days) {
      await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
      await client.send(
        new PutObjectLockConfigurationCommand({
          Bucket: name,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } } },
        }),
      );
    },
    async stop() {
      client.destroy();
      if (opts.keep) return void (await run('bash', [script, 'stop'], { env, timeout: 90_000 }));
      await run('bash', [script, 'kill'], { env, timeout: 60_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
