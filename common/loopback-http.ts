import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on loopback: its base URL and a close that also drops kept-alive connections. */
export interface Listening {
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on loopback. Idle kept-alive connections are closed by the client only
 * (`keepAliveTimeout = 0`, so no `Keep-Alive: timeout` hint either): a server that closes an
 * idle connection races a client that has just sent a request on it, and that request fails
 * with "fetch failed" (the socket closed under it). On a loaded machine the event loop lags
 * past undici's one-second safety margin, and CI saw it. The clients here are Charter's own
 * (undici drops an idle socket after 4 s).
 */
export async function listenLoopback(http: Server, port = 0, host = '127.0.0.1'): Promise<Listening> {
  http.keepAliveTimeout = 0;
  await new Promise<void>((resolve, fail) => {
    http.once('error', fail);
    http.listen(port, host, () => resolve());
  });
  const { port: bound } = http.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** A request body read up to a limit: its text, or `tooLarge` (the rest is not read). */
export type BoundedBody = { tooLarge: false; text: string } | { tooLarge: true };

/**
 * Reads a request body as UTF-8 text, at most `maxBytes`: a declared Content-Length over the
 * limit is refused unread, and reading stops (the request is paused, not destroyed, so an
 * answer can still be sent) as soon as more than the limit has arrived.
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<BoundedBody> {
  if (Number(req.headers['content-length']) > maxBytes) return Promise.resolve({ tooLarge: true });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).pause();
      resolve({ tooLarge: true });
    };
    const onEnd = () => resolve({ tooLarge: false, text: Buffer.concat(chunks).toString('utf8') });
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}
