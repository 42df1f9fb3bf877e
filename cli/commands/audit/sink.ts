import type { Command } from 'commander';
import { S3ObjectLockSink } from '../../../audit/index.js';
import { printJson, printLine } from '../../output.js';
import { action, withJson } from '../../program.js';
import { store, withStore, type StoreOptions } from './shared.js';

export function registerSink(audit: Command): void {
  withJson(
    withStore(
      audit
        .command('sink')
        .description("where this home's audit trail is, and on S3 the bucket's Object Lock configuration as the server reports it"),
    ),
  ).action(
    action(async (opts: StoreOptions & { json?: boolean }) => {
      const { dir, sink } = store(opts);
      const lock = sink instanceof S3ObjectLockSink ? await sink.lockConfiguration() : null;
      if (opts.json)
        return void printJson({ location: sink.location, stateDir: dir, kind: lock ? 's3-object-lock' : 'local-directory', lock });
      if (!lock) return void printLine(`${sink.location}: local directory sink (for development: tamper-evident, not WORM)`);
      printLine(
        `${sink.location}: S3 Object Lock ${lock.objectLock}, default retention ${lock.defaultMode} ${lock.defaultRetentionDays} day(s), versioning ${lock.versioning}; each object locked COMPLIANCE for ${lock.retentionDaysPerObject} day(s)`,
      );
      printLine(`  writer state (WAL, index, latest-checkpoint): ${dir}`);
    }),
  );
}
