import { readFileSync } from 'node:fs';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, InputError, type SourceLocation } from './errors.js';
import { missingHomeFileHint } from './paths.js';

/** Reads a file as UTF-8, turning a missing or unreadable file into an InputError that names it. */
export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const home = missingHomeFileHint(file);
      if (home)
        throw new InputError(
          `file not found; ${home.hint}`,
          { file },
          undefined,
          home.notInitialised ? ErrorCode.homeNotInitialised : ErrorCode.inputNotFound,
        );
      throw new InputError('file not found', { file }, undefined, ErrorCode.inputNotFound);
    }
    throw new InputError(`cannot read file (${code ?? 'unknown error'})`, { file }, undefined, ErrorCode.inputUnreadable);
  }
}

/** Converts a zero-based character offset into one-based line and column. */
export function offsetToLineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function formatFieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/**
 * Parses YAML and validates it with a zod schema. Syntax errors and schema violations
 * become InputErrors naming the file, the line of the offending node and the field path.
 */
export function parseYaml<T>(text: string, file: string, schema: z.ZodType<T>): T {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    const where = { file, ...(pos ? { line: pos.line, column: pos.col } : {}) };
    throw new InputError(`invalid YAML: ${yamlMessage(syntax.message)}`, where, undefined, ErrorCode.inputSyntax);
  }
  return validateWith(schema, doc.toJS(), file, (path) => nodeLine(doc, lineCounter, path));
}

/**
 * The 1-based line of the YAML node at `path`, or of the deepest ancestor that exists, so the
 * line points at the nearest real context; undefined when not even the root has a position.
 */
export function nodeLine(doc: Document, lineCounter: LineCounter, path: ReadonlyArray<PropertyKey>): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The line of the node at `path` in a YAML file (see nodeLine); undefined when the file cannot be read or parsed. */
export function yamlLineOf(file: string, path: ReadonlyArray<PropertyKey>): number | undefined {
  try {
    const lineCounter = new LineCounter();
    return nodeLine(parseDocument(readFileSync(file, 'utf8'), { lineCounter }), lineCounter, path);
  } catch {
    return undefined;
  }
}

/** The yaml library's first message line without its own " at line L, column C:" (the location is reported once, in front). */
function yamlMessage(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
}

export function readYaml<T>(file: string, schema: z.ZodType<T>): T {
  return parseYaml(readText(file), file, schema);
}

/**
 * Parses JSON text, reporting the line and column of a syntax error. JSON.parse does the
 * work; on failure jsonc-parser (strict: no comments, no trailing commas) locates the error,
 * since V8's messages do not always carry a position.
 */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false });
    const first = errors[0];
    const loc: SourceLocation = { file, ...(first ? offsetToLineColumn(text, first.offset) : {}) };
    throw new InputError(
      `invalid JSON: ${first ? printParseErrorCode(first.error) : (err as Error).message}`,
      loc,
      undefined,
      ErrorCode.inputSyntax,
    );
  }
}

export function readJson<T>(file: string, schema: z.ZodType<T>): T {
  return validateWith(schema, parseJson(readText(file), file), file);
}

/** Validates a value with zod; the first issue becomes an InputError naming the field. */
export function validateWith<T>(
  schema: z.ZodType<T>,
  value: unknown,
  file: string,
  lineOf?: (path: PropertyKey[]) => number | undefined,
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0]!;
  const path = first.path as PropertyKey[];
  const line = lineOf?.(path);
  throw new InputError(
    first.message,
    { file, field: formatFieldPath(path) || '(root)', ...(line !== undefined ? { line } : {}) },
    issues.slice(1).map((i) => `${formatFieldPath(i.path as PropertyKey[]) || '(root)'}: ${i.message}`),
  );
}
