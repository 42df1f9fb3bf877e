export {
  CharterError,
  ExitCode,
  FindingError,
  InputError,
  errorMessage,
  errorWithCauses,
  formatLocation,
  type SourceLocation,
} from './errors.js';
export { formatFieldPath, offsetToLineColumn, parseJson, parseYaml, readJson, readText, readYaml, validateWith } from './input.js';
export { writeFileAtomic } from './files.js';
export { charterHome, compiledManifestAgents, compiledManifestFile, compiledManifestsDir, contentPath, packageRoot } from './paths.js';
export { listenLoopback, readBoundedBody, type BoundedBody, type Listening } from './loopback-http.js';
export { inTransaction, openSqlite, type OpenSqliteOptions, type SqliteDatabase } from './sqlite.js';
