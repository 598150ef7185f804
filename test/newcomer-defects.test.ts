import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { readPromptFile } from '../src/inputs/read-prompts.js';
import { runCli } from './helpers/cli.js';
import { connectClient, contextFor, tempDir } from './helpers/fixtures.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

describe('a one-column CSV without a header', () => {
  const headerless = join(dir.path, 'questions.csv');
  writeFileSync(headerless, 'How do I kill a Python process?\nWhat is the capital of France?\n');

  it('is not read with its first prompt taken for the header: the caller is asked which it is', async () => {
    await expect(readPromptFile(headerless)).rejects.toThrow(/^column: .*questions\.csv has a single column whose first line is not one of prompt, question, goal, forbidden_prompt, Behavior: if the file has no header, add one \(for example "prompt"\) as its first line; if that line is the header, name it as the column \(--column\)$/);
    const cli = await runCli(['run', '--input', headerless], { AIDSAFE_DATA_DIR: join(dir.path, 'data') });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('has a single column whose first line is not one of');
  });

  it('reads every row once the header is there, and takes the first line as the header when named', async () => {
    const withHeader = join(dir.path, 'with-header.csv');
    writeFileSync(withHeader, `prompt\n${readFileSync(headerless, 'utf8')}`);
    expect((await readPromptFile(withHeader)).rows.map((r) => r.prompt)).toEqual(['How do I kill a Python process?', 'What is the capital of France?']);
    const text = join(dir.path, 'text.csv');
    writeFileSync(text, 'text\nfirst\nsecond\n');
    expect((await readPromptFile(text, 'text')).rows.map((r) => r.prompt)).toEqual(['first', 'second']);
  });
});

describe('start_batch with a relative path on a fresh data folder', () => {
  it('says the file does not exist (inputs/ is not there yet), not that it is outside the allowed folders', async () => {
    const data = join(dir.path, 'fresh');
    const ctx = await contextFor('http://127.0.0.1:9/v1', data);
    const { client, close } = await connectClient(ctx);
    try {
      const missing = (await client.callTool({ name: 'start_batch', arguments: { input_path: 'prompts.csv' } })) as CallToolResult;
      expect(missing.isError).toBe(true);
      const text = JSON.stringify(missing.content);
      expect(text).toContain(`input_path: \\"prompts.csv\\" does not exist: ${join(data, 'inputs')} is not there yet; create it and put the file in it`);
      expect(text).not.toContain('is outside the allowed folders');
      // A relative path that climbs out of inputs/ is still outside.
      const climbing = (await client.callTool({ name: 'start_batch', arguments: { input_path: '../secret.csv' } })) as CallToolResult;
      expect(JSON.stringify(climbing.content)).toContain('is outside the allowed folders');
    } finally {
      await close();
      await ctx.close();
    }
  });
});

describe('aidsafe-mcp runs', () => {
  it('shows each run’s recipe and key options, so two runs of one file tell apart', async () => {
    const data = join(dir.path, 'runs-data');
    const options = { agents: 2, max_rounds: 3, grade: true, preference: false, belief_rounds: 3, min_margin: 1, policy_ids: [] };
    const manifest = (id: string, extra: object) => ({
      id,
      created_at: '2026-11-28T00:00:00.000Z',
      updated_at: '2026-11-28T00:00:00.000Z',
      status: 'done',
      input: { path: '/prompts.csv', sha256: 'a'.repeat(64), column: 'prompt', rows: 1 },
      options: { ...options, ...extra },
      total: 1,
      config_hash: '0'.repeat(16),
    });
    for (const [id, extra] of [
      ['run-aidsafe', { preference: true, screen: { decontaminate: 'xstest', ngram: 8, ngram_overlap: 0.5 } }],
      ['run-baseline', { recipe: 'baseline' }],
    ] as const) {
      mkdirSync(join(data, 'runs', id), { recursive: true });
      writeFileSync(join(data, 'runs', id, 'run.json'), JSON.stringify(manifest(id, extra)));
    }
    const { stdout, code } = await runCli(['runs'], { AIDSAFE_DATA_DIR: data });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('run-aidsafe'))).toContain('aidsafe · agents 2 · rounds 3 · grade · preference (min margin 1) · decontaminate xstest  /prompts.csv');
    expect(lines.find((l) => l.startsWith('run-baseline'))).toContain('baseline · grade  /prompts.csv');
  });
});

describe('starting the server through npm', () => {
  it('the documented command leaves stdout to the MCP protocol: no npm banner before the first message', async () => {
    const npm = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['start', '--silent'], { cwd: root, env: { ...process.env, AIDSAFE_DATA_DIR: join(dir.path, 'npm-start') }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    const answered = new Promise<void>((resolve) => npm.stdout.on('data', (chunk: Buffer) => (/"id":1[,}]/.test((stdout += chunk.toString())) ? resolve() : undefined)));
    npm.stdin.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) + '\n');
    await answered;
    npm.kill();
    // Every line, from the first byte, is a JSON-RPC message.
    const messages = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { jsonrpc: string; id?: number; result?: unknown });
    expect(messages.every((m) => m.jsonrpc === '2.0')).toBe(true);
    expect(messages.find((m) => m.id === 1)).toMatchObject({ result: { serverInfo: { name: 'aidsafe-mcp' } } });
  }, 30_000);

  it('no doc tells an MCP client to run `npm start` without --silent (npm prints its banner on stdout)', () => {
    const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
    const bare = docs.flatMap((file) => (readFileSync(join(root, file), 'utf8').match(/npm (run )?start(?! --silent)\b.*$/gm) ?? []).map((line) => `${file}: ${line}`));
    expect(bare).toEqual([]);
  });
});
