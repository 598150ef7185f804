import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/fixtures.js';
import { serverJs } from './helpers/raw-stdio.js';

const dist = join(serverJs, '..');
const cliJs = join(dist, 'cli.js');
/** Which source modules (src/… and node_modules/…) each bundled file in dist/ holds, written by the build. */
const bundleMeta = JSON.parse(readFileSync(join(dist, '..', 'build', 'bundle-meta.json'), 'utf8')) as Record<string, string[]>;

/**
 * Which modules the built stdio server loads: every ES module through a loader hook, and every
 * CommonJS one from the require cache when the process exits, written to a file.
 */
const work = tempDir('aidsafe-startup-');
afterAll(() => work.remove());
const hooks = join(work.path, 'hooks.mjs');
const preload = join(work.path, 'preload.mjs');
writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.LOADED_OUT, url + '\\n');\n  return next(url, context);\n}\n`);
writeFileSync(
  preload,
  `import { appendFileSync } from 'node:fs';\nimport { createRequire, register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\nprocess.on('exit', () => appendFileSync(process.env.LOADED_OUT, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n'));\n`,
);

/** Starts the server, sends `requests` one after another (each waits for its reply), closes stdin, and returns what was loaded. */
async function loadedWhile(requests: { method: string; params?: unknown }[], command = [serverJs]): Promise<string[]> {
  const out = join(work.path, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(out, '');
  const child = spawn(process.execPath, ['--import', preload, ...command], {
    env: { PATH: process.env.PATH ?? '', LOADED_OUT: out, AIDSAFE_DATA_DIR: join(work.path, 'data'), OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', AIDSAFE_MODEL: 'm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let pending = '';
  const replies = new Map<number, (value: unknown) => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      const message = JSON.parse(pending.slice(0, i)) as { id?: number };
      pending = pending.slice(i + 1);
      if (typeof message.id === 'number') replies.get(message.id)?.(message);
    }
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const all = [{ method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }, ...requests];
  for (const [id, request] of all.entries()) {
    const reply = new Promise((resolve) => replies.set(id, resolve));
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, ...request }) + '\n');
    await reply;
    if (id === 0) child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  }
  child.stdin.end();
  await exited;
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

/** The source modules behind the loaded files: a bundled file stands for the modules it holds. */
function modulesIn(loaded: string[]): string[] {
  return loaded.flatMap((url) => {
    const path = url.startsWith('file:') ? fileURLToPath(url) : url;
    const inDist = relative(dist, path);
    return bundleMeta[inDist] ?? [path];
  });
}

/** Code that answering `initialize` and `tools/list` does not need. */
const NOT_AT_START = [
  /node_modules\/openai\//,
  /node_modules\/hyparquet/,
  /node_modules\/csv-parse\//,
  /node_modules\/yaml\//,
  /node_modules\/hono\//,
  /node_modules\/@hono\//,
  /node_modules\/@huggingface\//,
  /^src\/transports\/http\.ts$/,
  /^src\/pipeline\/(batch|deliberate|preference|grade|refine|baseline)\.ts$/,
  /^src\/store\/export\.ts$/,
  /^src\/report\//,
  /^src\/eval\/eval-run\.ts$/,
  /^src\/compare\//,
  /^src\/cli\/(commands|eval-command|compare-command|progress-view)\.ts$/,
];

const offenders = (loaded: string[]) => modulesIn(loaded).filter((name) => NOT_AT_START.some((pattern) => pattern.test(name)));

describe('stdio server start', () => {
  it('answers initialize and tools/list without loading model, export, report, eval or HTTP code', async () => {
    const loaded = await loadedWhile([{ method: 'tools/list' }]);
    expect(loaded.some((url) => url.endsWith('dist/server.js'))).toBe(true);
    expect(modulesIn(loaded)).toContain('src/server.ts');
    expect(offenders(loaded)).toEqual([]);
  }, 30_000);

  it('takes the MCP SDK and zod from the bundle, not from their hundreds of files in node_modules', async () => {
    const loaded = await loadedWhile([{ method: 'tools/list' }]);
    expect(modulesIn(loaded).some((name) => name.startsWith('node_modules/@modelcontextprotocol/sdk/'))).toBe(true);
    expect(loaded.filter((url) => /node_modules\/(@modelcontextprotocol\/sdk|zod)\//.test(url))).toEqual([]);
    expect(loaded.filter((url) => url.includes('/dist/')).length).toBeLessThan(50);
  }, 30_000);

  it('the same through `aidsafe-mcp serve`', async () => {
    const loaded = await loadedWhile([{ method: 'tools/list' }], [cliJs, 'serve']);
    expect(loaded.some((url) => url.endsWith('dist/cli.js'))).toBe(true);
    expect(modulesIn(loaded)).toContain('src/server.ts');
    expect(offenders(loaded)).toEqual([]);
  }, 30_000);

  it('loads them when a tool needs them (the check above sees what is loaded)', async () => {
    const loaded = await loadedWhile([
      { method: 'tools/call', params: { name: 'list_policies', arguments: {} } },
      { method: 'tools/call', params: { name: 'export_dataset', arguments: { format: 'sft' } } },
    ]);
    expect(modulesIn(loaded).some((name) => /node_modules\/yaml\//.test(name))).toBe(true);
    expect(modulesIn(loaded)).toContain('src/store/export.ts');
  }, 30_000);
});
