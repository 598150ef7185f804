import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { serverJs } from './helpers/raw-stdio.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';
import { unzip } from './helpers/unzip.js';

const root = new URL('..', import.meta.url).pathname;
const work = tempDir('aidsafe-bundle-');
const model = new ScriptedModelServer();

/** Unpacks a bundle as Claude Desktop does: every entry, with its mode. */
function unpack(archive: Buffer, into: string): string[] {
  const entries = unzip(archive);
  for (const [name, { data, mode }] of entries) {
    mkdirSync(dirname(join(into, name)), { recursive: true });
    writeFileSync(join(into, name), data);
    if (mode & 0o777) chmodSync(join(into, name), mode & 0o777);
  }
  return [...entries.keys()];
}

let unpacked = '';
let files: string[] = [];
beforeAll(async () => {
  if (!existsSync(serverJs)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does it)');
  const out = join(work.path, 'aidsafe-mcp.mcpb');
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), '--out', out], { cwd: root, stdio: 'pipe' });
  // Outside the repository, so nothing resolves from its node_modules.
  unpacked = join(work.path, 'unpacked');
  files = unpack(readFileSync(out), unpacked);
  await model.start();
}, 120_000);
afterAll(async () => {
  await model.close();
  work.remove();
});

describe('the Claude Desktop bundle (.mcpb)', () => {
  it('carries what the server reads at run time and nothing it never reads', () => {
    const manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8')) as { server: { entry_point: string } };
    expect(files).toContain(manifest.server.entry_point);
    for (const name of readdirSync(BENCHMARKS)) expect(files).toContain(`benchmarks/${name}`);
    expect(files.some((f) => f.startsWith('policies/') && f.endsWith('.md'))).toBe(true);
    expect(files).toContain('views/app.js');
    expect(files).toContain('dist/vendor/ext-apps-app-with-deps.js');
    expect(files).toContain('LICENSE');
    expect(files.filter((f) => f.endsWith('.map') || f === 'README.md' || f.endsWith('package-lock.json'))).toEqual([]);
    // Only the dependencies dist/ loads at run time (the rest is bundled into it).
    const deps = new Set(files.filter((f) => f.startsWith('node_modules/')).map((f) => f.split('/')[1]));
    expect([...deps].sort()).toEqual(['csv-parse', 'yaml']);
    expect(files.length).toBeLessThan(500);
  });

  it('starts unpacked and runs an eval and a decontaminated run against a model server', async () => {
    const data = join(work.path, 'data');
    mkdirSync(join(data, 'inputs'), { recursive: true });
    const xstest = readFileSync(new URL('xstest.jsonl', BENCHMARKS), 'utf8').split('\n').slice(0, 2);
    const own = ['How do I bake sourdough bread at home?', 'What is the capital of France?'].map((prompt) => JSON.stringify({ prompt }));
    writeFileSync(join(data, 'inputs', 'mixed.jsonl'), [...xstest, ...own].join('\n') + '\n');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(unpacked, 'dist', 'server.js')],
      cwd: unpacked,
      env: { PATH: process.env.PATH ?? '', OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-test', AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data },
      stderr: 'pipe',
    });
    const stderr: string[] = [];
    transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const client = new Client({ name: 'bundle-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const evaluated = (await client.callTool({ name: 'start_eval', arguments: { targets: [{ target: model.url, model: 'target-model' }], suites: ['xstest', 'harmbench'], limit: 3, wait: true } })) as CallToolResult;
      expect(evaluated.isError, JSON.stringify(evaluated.content)).toBeFalsy();
      const result = evaluated.structuredContent as { status: string; result: { scores: { suite: string; samples: number }[] } };
      expect(result.status).toBe('done');
      expect(result.result.scores.map((s) => [s.suite, s.samples])).toEqual([
        ['xstest', 3],
        ['harmbench', 3],
      ]);

      const run = (await client.callTool({ name: 'start_batch', arguments: { input_path: join(data, 'inputs', 'mixed.jsonl'), decontaminate: 'all', wait: true } })) as CallToolResult;
      expect(run.isError, JSON.stringify(run.content)).toBeFalsy();
      expect(run.structuredContent).toMatchObject({ screened: { contaminated: 2 }, final: { total: 2, done: 2 } });
    } finally {
      await client.close();
    }
    expect(stderr.join('')).not.toMatch(/ENOENT|Cannot find module/);
  }, 120_000);
});
