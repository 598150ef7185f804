import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import { createServer } from '../../src/server.js';
import type { ScriptedModelServer } from './scripted-model-server.js';

/** The benchmark prompt sets shipped in the repository: what eval reads, and plain prompt files for runs. */
export const BENCHMARKS = new URL('../../benchmarks/', import.meta.url);

export function tempDir(prefix = 'aidsafe-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A config as the server would read it from this environment, pointed at a scripted server. */
export function testConfig(baseURL: string, dataDir: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ OPENAI_BASE_URL: baseURL, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: dataDir, ...env });
}

export async function connectClient(ctx: AppContext, capabilities: Record<string, unknown> = {}): Promise<{ client: Client; close: () => Promise<void> }> {
  const server = createServer(ctx);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'aidsafe-test-client', version: '1.0.0' }, { capabilities });
  await client.connect(clientTransport);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

export async function contextFor(baseURL: string, dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<AppContext> {
  return createContext({ config: testConfig(baseURL, dataDir, { ...env }) });
}

/** XSTest prompts with their type and label, from the shipped set. */
export function xstestPrompts(): { prompt: string; type: string; label: string }[] {
  const lines = readFileSync(new URL('xstest.jsonl', BENCHMARKS), 'utf8').split('\n').filter(Boolean);
  return lines.map((line) => {
    const { prompt, type, label } = JSON.parse(line) as { prompt: string; type: string; label: string };
    return { prompt, type, label };
  });
}

/**
 * For a describe block that drives the CLI: a data folder and the scripted server started before its
 * tests and removed after, and the environment the CLI is started with (filled in once the server is up).
 */
export function cliAgainst(server: ScriptedModelServer): { data: { path: string; remove: () => void }; env: NodeJS.ProcessEnv } {
  const data = tempDir();
  const env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    await server.start();
    Object.assign(env, { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path });
  });
  afterAll(async () => {
    await server.close();
    data.remove();
  });
  return { data, env };
}
