import type { ApiError } from '../../api-types.js';

/**
 * The API client: the token pasted on the sign-in screen stays in this tab's sessionStorage
 * (gone when the tab closes) and goes with every request as `Authorization: Bearer`.
 */
const TOKEN = 'charter-console-token';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN),
  set: (t: string): void => sessionStorage.setItem(TOKEN, t),
  clear: (): void => sessionStorage.removeItem(TOKEN),
};

/** A non-2xx answer: its status and the API's message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Told when the API answers 401 (the shell goes back to the sign-in screen). */
export const onSignedOut = { handler: (): void => undefined };

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (res.ok) return res;
  const message = await res
    .json()
    .then((b: ApiError) => b.error)
    .catch(() => res.statusText);
  if (res.status === 401) onSignedOut.handler();
  throw new ApiFailure(res.status, message);
}

export const apiGet = async <T>(path: string): Promise<T> => (await (await call('GET', path)).json()) as T;

export const apiPost = (path: string, body: unknown): Promise<Response> => call('POST', path, body);

/** A query string of the non-empty values. */
export function queryString(values: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
