import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { offsetToLineColumn, type SourceLocation } from '../common/index.js';

export { cedar };

export interface EntityUid {
  type: string;
  id: string;
}

export interface CedarEntity {
  uid: EntityUid;
  attrs: Record<string, unknown>;
  parents: EntityUid[];
}

/** `Type::"id"`, Cedar's own text form of an entity uid. */
export function uidText(uid: EntityUid): string {
  return `${uid.type}::${JSON.stringify(uid.id)}`;
}

const UID_TEXT = /^([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)::"((?:[^"\\]|\\.)*)"$/;

export function parseUid(text: string): EntityUid | undefined {
  const m = UID_TEXT.exec(text);
  return m ? { type: m[1]!, id: JSON.parse(`"${m[2]!}"`) as string } : undefined;
}

/** Cedar's error list as one line per error, with its help text when there is one. */
export function cedarErrorText(errors: ReadonlyArray<cedar.DetailedError>): string[] {
  return errors.map((e) => (e.help ? `${e.message} (${e.help})` : e.message));
}

/** Where a policy was written: its pack and file, and the whole file with the policy's offset in it when at hand. */
export interface PolicyOrigin {
  pack: string;
  /** Path relative to its packs folder. */
  file: string;
  /** The file's text (packs have it; a manifest carries only the policy's own text). */
  source?: string;
  /** Character offset of the policy text within `source`. */
  offset?: number;
}

/**
 * A Cedar error in one policy as its author reads it: the @id, pack and file, with line and column
 * when the file is at hand. Cedar's own text may name the policy by the id it was handed (the
 * positional `p96` of a validation batch): that prefix is dropped, the @id is named instead.
 */
export function policyDiagnostic(id: string, origin: PolicyOrigin | undefined, error: cedar.DetailedError): string {
  const message = `${error.message.replace(/^for policy `[^`]*`, /, '')}${error.help ? ` (${error.help})` : ''}`;
  if (!origin) return `policy ${id}: ${message}`;
  let where = origin.file;
  if (origin.source !== undefined) {
    const { line, column } = offsetToLineColumn(origin.source, (origin.offset ?? 0) + (error.sourceLocations?.[0]?.start ?? 0));
    where += `:${line}:${column}`;
  }
  return `policy ${id} (pack ${origin.pack}, ${where}): ${message}`;
}

/** Location of a Cedar error in `file`, whose whole text Cedar was given (it reports character offsets). */
export function cedarLocation(file: string, content: string, error: cedar.DetailedError | undefined): SourceLocation {
  const start = error?.sourceLocations?.[0]?.start;
  return start === undefined ? { file } : { file, ...offsetToLineColumn(content, start) };
}
