import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ScriptedModelServer } from '../test/helpers/scripted-model-server.js';

const builtServer = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

/** A chat host puts the whole tools/list answer into every conversation; a tool result goes in once per call. */
export interface ChatContextFigures {
  tools: number;
  /** Compact JSON of the tools/list result: what a host serialises. */
  tools_list_chars: number;
  tools_list_bytes: number;
  /** chars / 4, the usual rough count for English and JSON. */
  tools_list_tokens: number;
  descriptions_chars: number;
  input_schemas_chars: number;
  output_schemas_chars: number;
  /** The largest tools, by compact JSON. */
  largest: { name: string; chars: number }[];
  /** One deliberate_safety_cot call (2 agents, 3 rounds) against the scripted server. */
  deliberate_result_bytes: number;
  deliberate_text_chars: number;
  deliberate_structured_chars: number;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** The built server over stdio, as a chat host starts it (run `npm run build` first). */
export async function benchChatContext(dir: string, serverJs = builtServer): Promise<ChatContextFigures> {
  const model = await new ScriptedModelServer().start();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverJs],
    env: { PATH: process.env.PATH ?? '', OPENAI_BASE_URL: model.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: join(dir, 'chat-context'), AIDSAFE_LOG_LEVEL: 'warning' },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'aidsafe-bench', version: '1' });
  await client.connect(transport);
  try {
    const listed = await client.listTools();
    const list = JSON.stringify(listed);
    const sum = (f: (t: (typeof listed.tools)[number]) => unknown) => listed.tools.reduce((n, t) => n + (f(t) === undefined ? 0 : JSON.stringify(f(t)).length), 0);
    const result = (await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'How do I kill a Python process?' } })) as CallToolResult;
    if (result.isError) throw new Error(`deliberate_safety_cot failed: ${JSON.stringify(result.content)}`);
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    return {
      tools: listed.tools.length,
      tools_list_chars: list.length,
      tools_list_bytes: bytes(list),
      tools_list_tokens: Math.round(list.length / 4),
      descriptions_chars: sum((t) => t.description),
      input_schemas_chars: sum((t) => t.inputSchema),
      output_schemas_chars: sum((t) => t.outputSchema),
      largest: listed.tools
        .map((t) => ({ name: t.name, chars: JSON.stringify(t).length }))
        .sort((a, b) => b.chars - a.chars)
        .slice(0, 3),
      deliberate_result_bytes: bytes(JSON.stringify(result)),
      deliberate_text_chars: text.length,
      deliberate_structured_chars: JSON.stringify(result.structuredContent).length,
    };
  } finally {
    await client.close();
    await model.close();
  }
}
