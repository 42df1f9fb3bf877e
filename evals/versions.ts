import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { contentPath } from '../common/index.js';

const version = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;

/** Versions recorded in every report: a result is only reproducible with the same engine. */
export function engineVersions(): { charter: string; promptfoo: string } {
  // promptfoo's exports map hides package.json; its entry point sits at dist/src/index.cjs.
  const entry = createRequire(import.meta.url).resolve('promptfoo');
  return { charter: version(contentPath('package.json')), promptfoo: version(join(dirname(entry), '..', '..', 'package.json')) };
}
