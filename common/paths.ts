import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
