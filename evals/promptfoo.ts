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

export function loadPromptfoo(): Promise<Promptfoo> {
  if (!loaded) {
    for (const [k, v] of Object.entries(promptfooEnvironment())) process.env[k] ??= v;
    loaded = import('promptfoo');
  }
  return loaded;
}
