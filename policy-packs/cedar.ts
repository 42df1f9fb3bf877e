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

/** Location of a Cedar error in `file`, whose whole text Cedar was given (it reports character offsets). */
export function cedarLocation(file: string, content: string, error: cedar.DetailedError | undefined): SourceLocation {
  const start = error?.sourceLocations?.[0]?.start;
  return start === undefined ? { file } : { file, ...offsetToLineColumn(content, start) };
}
