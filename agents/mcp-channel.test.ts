import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { mcpToolChannel } from './mcp-channel.js';

/** A client connected in process to a server whose one tool answers after `delayMs` (a timer). */
async function slowToolClient(): Promise<Client> {
  const server = new Server({ name: 'slow', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    await new Promise((r) => setTimeout(r, Number(req.params.arguments?.['delayMs'])));
    return { content: [{ type: 'text' as const, text: '{"done":true}' }] };
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

describe('mcpToolChannel', () => {
  afterEach(() => vi.useRealTimers());

  test("waits as long as it is told (past the SDK's 60 s default) and no longer", async () => {
    const client = await slowToolClient();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const patient = mcpToolChannel(client, { timeoutMs: 120_000 }).callTool('slow', { delayMs: 90_000 }, {});
    await vi.advanceTimersByTimeAsync(90_000);
    await expect(patient).resolves.toMatchObject({ value: { done: true }, isError: false });

    const hasty = mcpToolChannel(client, { timeoutMs: 1_000 }).callTool('slow', { delayMs: 5_000 }, {});
    const outcome = hasty.then(
      () => 'answered',
      (err: unknown) => String(err),
    );
    await vi.advanceTimersByTimeAsync(1_001);
    expect(await outcome).toContain('Request timed out');
    await client.close();
  });
});
