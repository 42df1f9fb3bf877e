import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on loopback: its base URL and a close that also drops kept-alive connections. */
export interface Listening {
  url: string;
  close(): Promise<void>;
}

export async function listenLoopback(http: Server, port = 0, host = '127.0.0.1'): Promise<Listening> {
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
