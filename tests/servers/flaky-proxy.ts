import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, to take the server "down" without stopping
 * it: while down, open connections are reset and new ones are closed at once, as a crashed
 * service or a broken network would look to a client. Every connection is counted, so a test
 * can tell a call that an open breaker refused (no connection) from one that failed on the wire.
 */
export interface FlakyProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  connections: number;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const t = new URL(target);
  const open = new Set<Socket>();
  let isDown = false;
  const server = createServer((client) => {
    proxy.connections++;
    if (isDown) return client.destroy();
    const upstream = connect(Number(t.port), t.hostname);
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: FlakyProxy = {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: 0,
    down() {
      isDown = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    up() {
      isDown = false;
    },
    close() {
      proxy.down();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
