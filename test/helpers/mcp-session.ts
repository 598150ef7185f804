import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll } from 'vitest';
import { connectClient, contextFor, tempDir } from './fixtures.js';
import { ScriptedModelServer } from './scripted-model-server.js';

export interface McpSession {
  /** A fresh data folder, removed after the file's tests. */
  data: { path: string; remove: () => void };
  /** The model server the server's roles are pointed at. */
  model: ScriptedModelServer;
  /** The SDK client, connected once the file's beforeAll has run. */
  readonly client: Client;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
}

/**
 * The MCP server in process, on a fresh data folder, with its roles on a scripted model server and a
 * real SDK client connected to it: started before the calling file's tests, closed after them.
 */
export function mcpSession(): McpSession {
  const data = tempDir();
  const model = new ScriptedModelServer();
  let connected: { client: Client; close: () => Promise<void> } | undefined;
  beforeAll(async () => {
    await model.start();
    connected = await connectClient(await contextFor(model.url, data.path));
  });
  afterAll(async () => {
    await connected?.close();
    await model.close();
    data.remove();
  });
  const client = () => {
    if (!connected) throw new Error('the MCP client is connected in beforeAll');
    return connected.client;
  };
  return {
    data,
    model,
    get client() {
      return client();
    },
    // Not a method: it is destructured.
    call: async (name, args) => (await client().callTool({ name, arguments: args })) as CallToolResult,
  };
}
