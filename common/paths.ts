import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root: the folder holding package.json. Source runs from `<root>/common`,
 * the build from `<root>/dist/common`; walking up covers both.
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('charter: cannot locate package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

/** Embedded content shipped with Charter (packs, datasets, suites, gates) lives under the package root. */
export function contentPath(...parts: string[]): string {
  return join(packageRoot, ...parts);
}

/**
 * Charter's state directory (keys, manifests, audit log, reports, release records).
 * `CHARTER_HOME` overrides it; the default is `.charter` in the working directory.
 */
export function charterHome(): string {
  return resolve(process.env.CHARTER_HOME ?? '.charter');
}

const COMPILED = '.manifest.json';

/** The folder where `charter packs compile` files signed manifests: the candidates a first release takes. */
export function compiledManifestsDir(home: string): string {
  return join(home, 'manifests');
}

/** Where `charter packs compile` files an agent's signed manifest. */
export function compiledManifestFile(home: string, agent: string): string {
  return join(compiledManifestsDir(home), `${agent}${COMPILED}`);
}

/** The agents with a compiled manifest in a home, sorted. */
export function compiledManifestAgents(home: string): string[] {
  const dir = compiledManifestsDir(home);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(COMPILED))
        .sort()
        .map((f) => f.slice(0, -COMPILED.length))
    : [];
}

/** Which command creates a home's files, by the first folder of their path in the home. */
const CREATED_BY: Record<string, string> = {
  keys: 'charter init (or charter keys generate --name NAME --purpose PURPOSE)',
  'tenants.yaml': 'charter init',
  'config.yaml': 'charter init',
  manifests: 'charter packs compile --all',
  releases: 'charter release promote --env ENV',
  reports: 'charter evals run SUITE',
  orchestrator: 'charter negotiations run',
};

/**
 * For a file missing from the Charter home: the command that creates it. A home without
 * config.yaml or keys was never set up, and the answer is `charter init` whatever the file.
 */
export function missingHomeFileHint(file: string): { hint: string; notInitialised: boolean } | undefined {
  const home = charterHome();
  const rel = relative(home, resolve(file));
  if (rel.startsWith('..') || rel === '' || isAbsolute(rel)) return undefined;
  if (!existsSync(join(home, 'keys')) && !existsSync(join(home, 'config.yaml')))
    return { hint: `the Charter home ${home} is not set up: run \`charter init\` (or pass --home DIR)`, notInitialised: true };
  const by = CREATED_BY[rel.split(sep)[0]!];
  return by ? { hint: `create it with: ${by}`, notInitialised: false } : undefined;
}
