import { formatFieldPath } from '../common/index.js';

/**
 * How large a tool call's arguments may be before anything else looks at them. Every later
 * stage (tenant binding, the argument contract, Cedar, the digest in the record) walks the
 * arguments; these bounds keep each walk shallow and short, so no input can overflow the stack
 * or stall the decision, and the call is denied with a reason naming the bound instead.
 */
export interface ArgumentBounds {
  /** Nesting levels of objects and arrays below `args`. */
  maxDepth: number;
  /** Values of any kind (objects, arrays, strings, numbers, booleans, nulls). */
  maxValues: number;
  /** Characters of text: every string and every object key. */
  maxTextChars: number;
}

/** Procurement tools take flat records; these leave room for nested filters without allowing abuse. */
export const ARGUMENT_BOUNDS: ArgumentBounds = { maxDepth: 32, maxValues: 10_000, maxTextChars: 256 * 1024 };

/** Longest tool name recorded as given; a longer one is denied and recorded cut to this length. */
export const MAX_TOOL_NAME_CHARS = 128;

export type ReadArguments = { ok: true; args: Record<string, unknown> } | { ok: false; reason: string };

class OutOfBounds extends Error {}

/**
 * Reads a call's arguments into plain JSON data within `bounds`: an object (absent means
 * `{}`) of objects, arrays, strings, finite numbers, booleans and nulls; a property whose value
 * is `undefined` is left out, as JSON would. The copy is what the decision covers, so a getter
 * or proxy in an in-process caller's object is read once, here, and cannot answer differently
 * to later stages. Recursion is bounded by `maxDepth` before it descends.
 */
export function readArguments(input: unknown, bounds: ArgumentBounds = ARGUMENT_BOUNDS): ReadArguments {
  if (input === undefined) return { ok: true, args: {} };
  if (!isPlainObject(input)) return { ok: false, reason: `arguments must be a JSON object, got ${kindOf(input)}` };
  let values = 0;
  let chars = 0;
  const text = (s: string, path: (string | number)[]) => {
    chars += s.length;
    if (chars > bounds.maxTextChars)
      throw new OutOfBounds(
        `arguments exceed ${bounds.maxTextChars} characters of text (maxTextChars, at ${formatFieldPath(['args', ...path])})`,
      );
  };
  const copy = (value: unknown, path: (string | number)[]): unknown => {
    if (++values > bounds.maxValues) throw new OutOfBounds(`arguments hold more than ${bounds.maxValues} values (maxValues)`);
    if (value === null || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new OutOfBounds(`${formatFieldPath(['args', ...path])} is not a finite number`);
      return value;
    }
    if (typeof value === 'string') {
      text(value, path);
      return value;
    }
    if (path.length >= bounds.maxDepth && (Array.isArray(value) || isPlainObject(value)))
      throw new OutOfBounds(`arguments nest deeper than ${bounds.maxDepth} levels (maxDepth, at ${formatFieldPath(['args', ...path])})`);
    if (Array.isArray(value)) return Array.from(value, (v, i) => copy(v, [...path, i]));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        text(key, path);
        const v = value[key];
        if (v !== undefined) out[key] = copy(v, [...path, key]);
      }
      return out;
    }
    throw new OutOfBounds(`${formatFieldPath(['args', ...path])} is not JSON data (${kindOf(value)})`);
  };
  try {
    return { ok: true, args: copy(input, []) as Record<string, unknown> };
  } catch (err) {
    if (err instanceof OutOfBounds) return { ok: false, reason: err.message };
    return { ok: false, reason: `arguments could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The tool name a record carries: the caller's when it is a usable string, else `(none)`, cut to MAX_TOOL_NAME_CHARS. */
export function recordedToolName(tool: unknown): string {
  if (typeof tool !== 'string' || tool.length === 0) return '(none)';
  return tool.length > MAX_TOOL_NAME_CHARS ? `${tool.slice(0, MAX_TOOL_NAME_CHARS)}…` : tool;
}

/** Why a tool name cannot name a tool, or undefined when it can. */
export function toolNameProblem(tool: unknown): string | undefined {
  if (typeof tool !== 'string' || tool.length === 0) return `the tool name must be a non-empty string, got ${kindOf(tool)}`;
  if (tool.length > MAX_TOOL_NAME_CHARS) return `the tool name is longer than ${MAX_TOOL_NAME_CHARS} characters`;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  if (typeof value === 'object') return `an object of class ${(value as object).constructor?.name ?? 'unknown'}`;
  return `a ${typeof value}`;
}
