import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { charterHome, InputError } from '../../../common/index.js';
import { loadSigner, loadTrustedKeys } from '../../../signing/index.js';
import { Judge, loadJudgeConfig, loadReport, ResponseCache, type EvalRunResult } from '../../../evals/index.js';
import { printTable } from '../../output.js';

export function positiveInt(value: string, flag: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InputError(`${flag} must be a positive integer, got '${value}'`, { field: flag });
  return Number(value);
}

/** The judge from --judge FILE or $CHARTER_HOME/judge.yaml, with the response cache under $CHARTER_HOME/cache. */
export function judgeFrom(file: string | undefined, noCache: boolean): Judge | null {
  const loaded = loadJudgeConfig(file);
  if (!loaded) return null;
  return new Judge(loaded.config, noCache ? null : new ResponseCache(join(charterHome(), 'cache', 'judge')));
}

/** The eval-report signer: --key, else the home's eval-report key, which must exist. */
export async function signerFrom(ref: string | undefined) {
  const path = ref ?? join(charterHome(), 'keys', 'eval-report.key.pem');
  if (!ref && !existsSync(path)) {
    throw new InputError(
      `no eval-report signing key at ${path} (create one: charter keys generate --name eval-report --purpose eval-report)`,
      { field: '--key' },
    );
  }
  return loadSigner(path);
}

/** A signed report verified against --trusted-keys (default the home's trusted keys, which must exist). */
export function verifiedReport(file: string, trustedKeys: string | undefined): ReturnType<typeof loadReport> {
  const trustedKeysFile = trustedKeys ?? join(charterHome(), 'keys', 'trusted-keys.json');
  if (!existsSync(trustedKeysFile)) throw new InputError('trusted keys file not found', { file: trustedKeysFile, field: '--trusted-keys' });
  return loadReport(file, loadTrustedKeys(trustedKeysFile));
}

/** A report's metrics with their intervals and the method that produced each. */
export function printMetrics(report: EvalRunResult['report']): void {
  printTable(
    ['metric', 'estimate', '95% interval', 'method', 'n', 'errors'],
    report.metrics.map((m) => [
      m.name,
      m.estimate?.toFixed(4) ?? 'not run',
      m.low === null ? '' : `${m.low.toFixed(4)} – ${m.high!.toFixed(4)}`,
      m.method ?? m.note,
      m.n,
      m.errors,
    ]),
  );
}
