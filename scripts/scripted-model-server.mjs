// Starts the tests' scripted OpenAI-compatible model server (test/helpers/scripted-model-server.ts) on a
// free loopback port, outside vitest, for scripts that need a model to generate and judge without a
// network: the fine-tuning loop uses it. The TypeScript is bundled with esbuild (a devDependency) into a
// temporary file, so nothing but `npm ci` is needed. It prints {"url": "http://127.0.0.1:PORT/v1"} as one
// line on stdout once it listens, and stops on SIGTERM or SIGINT.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const source = fileURLToPath(new URL('../test/helpers/scripted-model-server.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'scripted-model-server-'));
const bundle = join(dir, 'server.mjs');
await build({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'error' });
const { ScriptedModelServer } = await import(pathToFileURL(bundle).href);
rmSync(dir, { recursive: true, force: true });

const server = await new ScriptedModelServer().start();
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
