import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

/**
 * The transport's fetch, on node:http(s) with kept-alive connections instead of the global
 * fetch: a tool call's JSON answer is read whole and handed to the SDK as a Response, which
 * spares undici's fetch machinery (Request objects, web streams piping) about a third of a
 * call's client CPU (profile of bench/orchestrator-dag: 13.5 supplier calls a negotiation). An
 * event stream is passed on as a stream. Redirects are returned as they are (the SDK asks for
 * `redirect: 'manual'` and follows within the origin itself); a connection that fails rejects
 * as fetch does, a TypeError whose cause carries the socket's code (isConnectionFailure). Each
 * request's abort listener goes with its socket, so a long-lived connection carrying thousands
 * of calls piles up none on the transport's signal.
 */
const nodeFetch: FetchLike = (url, init) =>
  new Promise<Response>((resolve, reject) => {
    const body = init?.body ?? undefined;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array))
      return reject(new TypeError('fetch failed: the MCP transport sends a string or bytes'));
    const target = new URL(url);
    const agent = target.protocol === 'https:' ? agents['https:'] : target.protocol === 'http:' ? agents['http:'] : undefined;
    if (!agent) return reject(new TypeError(`fetch failed: ${target.protocol} is not http(s)`));
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => void (headers[name] = value));
    const failed = (err: unknown) => reject(init?.signal?.aborted ? init.signal.reason : new TypeError('fetch failed', { cause: err }));
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      { method: init?.method ?? 'GET', headers, agent, ...(init?.signal ? { signal: init.signal } : {}) },
      (res) => {
        const status = res.statusCode ?? 502;
        const out = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const bodyless = status === 204 || status === 304 || init?.method === 'HEAD';
        if (!bodyless && (res.headers['content-type'] ?? '').includes('text/event-stream')) {
          resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers: out }));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', failed);
        res.on('end', () => resolve(new Response(bodyless ? null : Buffer.concat(chunks), { status, headers: out })));
      },
    );
    req.on('error', failed);
    req.end(body);
  });

/**
 * An MCP client over Streamable HTTP, connected on first use and kept for every later call.
 * A failed connection is not kept: the next call tries again.
 */
export class LazyMcpClient {
  private pending: Promise<Client> | undefined;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly requestInit?: RequestInit,
  ) {}

  get(): Promise<Client> {
    if (!this.pending) {
      const client = new Client({ name: this.name, version: '0.1.0' });
      const transport = new StreamableHTTPClientTransport(new URL(this.url), {
        fetch: nodeFetch,
        ...(this.requestInit ? { requestInit: this.requestInit } : {}),
      });
      const pending = client.connect(transport).then(() => client);
      pending.catch(() => {
        if (this.pending === pending) this.pending = undefined;
      });
      this.pending = pending;
    }
    return this.pending;
  }

  /** Closes the connection if one was made (a no-op otherwise). */
  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.close();
  }
}
