import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { startToolServer } from '../tests/servers/tool-server.js';
import { LazyMcpClient } from './mcp-http-client.js';
import { isConnectionFailure } from './upstreams.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('LazyMcpClient over node:http', () => {
  test('calls a tool server, several calls on the client it keeps', async () => {
    const server = await startToolServer(['quote'], () => 0);
    const client = new LazyMcpClient(server.url, 'test');
    try {
      for (let i = 0; i < 3; i++) {
        const result = await (await client.get()).callTool({ name: 'quote', arguments: { n: i } });
        expect(result.content).toEqual([{ type: 'text', text: JSON.stringify({ ok: true, tool: 'quote', args: { n: i } }) }]);
      }
      expect(server.received).toHaveLength(3);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a refused connection fails as fetch does, recognised as a connection failure (what an idempotent call is resent on)', async () => {
    const client = new LazyMcpClient(`http://127.0.0.1:${await closedPort()}/mcp`, 'test');
    const err = await client.get().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
    expect(isConnectionFailure(err)).toBe(true);
  });

  test('closing the client aborts a call in flight', async () => {
    const server = await startToolServer(['quote'], (args) => Number(args['delayMs']));
    const client = new LazyMcpClient(server.url, 'test');
    try {
      const slow = (await client.get()).callTool({ name: 'quote', arguments: { delayMs: 3_000 } });
      const outcome = slow.then(
        () => 'answered',
        () => 'aborted',
      );
      for (let i = 0; i < 200 && server.received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await client.close();
      expect(await outcome).toBe('aborted');
    } finally {
      await server.close();
    }
  });
});
