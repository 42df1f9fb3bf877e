import { join } from 'node:path';
import { charterHome } from '../common/index.js';

/**
 * promptfoo phones home by default (telemetry, update checks, sharing, remote generation) and
 * keeps config, cache and logs under ~/.promptfoo. Before its first import Charter turns all of
 * that off and points every directory it may write under $CHARTER_HOME/promptfoo, so an eval
 * run sends nothing anywhere and writes nothing outside the project or CHARTER_HOME.
 * Values the operator set explicitly are kept.
 */
export function promptfooEnvironment(home = charterHome()): Record<string, string> {
  const dir = join(home, 'promptfoo');
  return {
    PROMPTFOO_DISABLE_TELEMETRY: '1',
    PROMPTFOO_DISABLE_UPDATE: '1',
    PROMPTFOO_DISABLE_SHARING: '1',
    PROMPTFOO_DISABLE_REMOTE_GENERATION: '1',
    PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION: '1',
    PROMPTFOO_CONFIG_DIR: join(dir, 'config'),
    PROMPTFOO_CACHE_PATH: join(dir, 'cache'),
    PROMPTFOO_LOG_DIR: join(dir, 'logs'),
    PROMPTFOO_DISABLE_ERROR_LOG: '1',
    PROMPTFOO_DISABLE_DEBUG_LOG: '1',
    // Its own response cache is off (Charter caches judge answers itself, by content hash).
    PROMPTFOO_CACHE_ENABLED: 'false',
    // promptfoo logs progress to stdout at info; stdout belongs to Charter's --json output.
    LOG_LEVEL: 'error',
  };
}

type Promptfoo = typeof import('promptfoo');
let loaded: Promise<Promptfoo> | undefined;

/**
 * With telemetry disabled promptfoo still POSTs one "telemetry disabled" event to its vendor
 * (upstream issue #9968): `recordTelemetryDisabled` sends unless its instance says it already
 * did. The instance registers itself on `process[Symbol.for('promptfoo.telemetry.instance')]`
 * when its module loads; catching that assignment marks it as sent, so the beacon never leaves.
 * (The egress guard would refuse it anyway; this keeps it from being attempted.)
 */
function silencePromptfooBeacon(): void {
  const key = Symbol.for('promptfoo.telemetry.instance');
  let instance: unknown = (process as unknown as Record<symbol, unknown>)[key];
  const markSent = (t: unknown) => {
    if (t && typeof t === 'object') (t as { telemetryDisabledRecorded?: boolean }).telemetryDisabledRecorded = true;
  };
  markSent(instance);
  Object.defineProperty(process, key, {
    configurable: true,
    get: () => instance,
    set: (t: unknown) => {
      markSent(t);
      instance = t;
    },
  });
}

let quieted = false;

/**
 * The settings above (environment, no beacon) for this process, before promptfoo is first
 * imported. `loadPromptfoo` applies them; `promptfoo-preload.ts` applies them to promptfoo's own
 * CLI (`node --import <charter>/dist/evals/promptfoo-preload.js <promptfoo>/dist/src/entrypoint.js`).
 */
export function quietPromptfoo(): void {
  if (quieted) return;
  quieted = true;
  for (const [k, v] of Object.entries(promptfooEnvironment())) process.env[k] ??= v;
  silencePromptfooBeacon();
}

export function loadPromptfoo(): Promise<Promptfoo> {
  if (!loaded) {
    quietPromptfoo();
    loaded = import('promptfoo');
  }
  return loaded;
}
