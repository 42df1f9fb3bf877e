import { createServer } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, test } from 'vitest';
import { listenLoopback } from './loopback-http.js';

describe('listenLoopback', () => {
  test('leaves idle kept-alive connections for the client to close (no server-side close to race a request)', async () => {
    const server = await listenLoopback(createServer((_req, res) => res.end('ok')));
    const port = new URL(server.url).port;
    const socket = connect(Number(port), '127.0.0.1');
    let closed = false;
    socket.on('close', () => (closed = true));
    try {
      const response = await new Promise<string>((resolve) => {
        socket.once('data', (d) => resolve(d.toString()));
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
      });
      expect(response).toMatch(/^HTTP\/1\.1 200/);
      expect(response.toLowerCase()).not.toContain('keep-alive: timeout');
      // Node's default would close the idle connection after 5 s.
      await new Promise((r) => setTimeout(r, 5_500));
      expect(closed).toBe(false);
      const again = await new Promise<string>((resolve) => {
        socket.once('data', (d) => resolve(d.toString()));
        socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      });
      expect(again).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
      await server.close();
    }
  }, 15_000);
});
