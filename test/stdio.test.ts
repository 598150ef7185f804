import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { xstestPrompts } from './helpers/fixtures.js';
import { serverJs } from './helpers/raw-stdio.js';
import { stdioServerSetup } from './helpers/stdio-server.js';

const { env } = stdioServerSetup();

async function startServer(): Promise<{ client: Client; stderr: string[] }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverJs],
    env: { PATH: process.env.PATH ?? '', ...env('sk-test-never-logged-0123456789') } as Record<string, string>,
    stderr: 'pipe',
  });
  const stderr: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr };
}

describe('dist/server.js over stdio', () => {
  it('deliberates on XSTest prompts and returns the same records after a restart', async () => {
    const first = await startServer();
    const { tools } = await first.client.listTools();
    expect(tools.map((t) => t.name)).toContain('deliberate_safety_cot');
    const prompts = xstestPrompts().filter((_, i) => i % 150 === 0);
    const records: Record<string, unknown>[] = [];
    for (const { prompt } of prompts) {
      const result = (await first.client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      const { saved: _saved, ...record } = result.structuredContent as Record<string, unknown>;
      records.push(record);
    }
    await first.client.close();

    const second = await startServer();
    for (const record of records) {
      const again = (await second.client.callTool({ name: 'get_record', arguments: { id: record.id } })) as CallToolResult;
      expect(again.structuredContent).toEqual(record);
    }
    await second.client.close();
    const logs = first.stderr.join('') + second.stderr.join('');
    expect(logs).toContain('aidsafe-mcp');
    expect(logs).not.toContain('sk-test-never-logged');
  });
});
