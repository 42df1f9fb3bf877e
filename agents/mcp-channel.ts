import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolChannel, ToolDecision, ToolResult } from './toolbox.js';

/** The value of a tool result: structured content, else the first text block as JSON, else the text. */
export function toolValue(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const text = result.content.find((c) => c.type === 'text')?.text;
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface McpChannelOptions {
  /**
   * How long to wait for one call. Set it from the gateway's own deadline (its upstream timeout
   * plus its work), never left to the SDK's 60 s default: under load a call the gateway is still
   * making would otherwise be abandoned by the agent while its decision stands.
   */
  timeoutMs: number;
}

/** What a tool channel calls: an MCP client connected to the gateway, or the gateway in this process (`inProcessGateway`). */
export type GatewayToolCaller = Pick<Client, 'callTool'> | { callTool(params: CallToolRequest['params']): Promise<CallToolResult> };

/** A tool channel over the gateway: an MCP client (over HTTP) or the gateway in this process. */
export function mcpToolChannel(client: GatewayToolCaller, opts: McpChannelOptions): ToolChannel {
  return {
    async callTool(tool, args, meta) {
      const result = (await client.callTool({ name: tool, arguments: args, _meta: meta }, undefined, {
        timeout: opts.timeoutMs,
      })) as CallToolResult;
      const decision = result._meta?.['charter/decision'] as ToolDecision | undefined;
      const value = toolValue(result);
      const out: ToolResult = { decision, value, isError: result.isError === true };
      if (out.isError) out.error = typeof value === 'string' ? value : JSON.stringify(value);
      return out;
    },
  };
}
