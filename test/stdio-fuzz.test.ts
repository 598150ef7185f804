import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/stats/bootstrap.js';
import { tempDir } from './helpers/fixtures.js';
import { RawStdioServer, serverJs } from './helpers/raw-stdio.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

// Seeded, so a failure repeats: FUZZ_SEED=… FUZZ_MS=… npx vitest run test/stdio-fuzz.test.ts
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_128);
const DURATION_MS = Number(process.env.FUZZ_MS ?? 3_000);

const data = tempDir();
const model = new ScriptedModelServer();

beforeAll(async () => {
  if (!existsSync(serverJs)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does it)');
  await model.start();
});
afterAll(async () => {
  await model.close();
  data.remove();
});

describe('dist/server.js over stdio, fuzzed', () => {
  it(`answers every request and never exits (seed ${SEED}, ${DURATION_MS} ms)`, async () => {
    const rnd = seededRandom(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
    const text = (max: number) => Array.from({ length: int(max) }, () => String.fromCharCode(pick([32 + int(95), int(0x3000), 0x22, 0x5c, 0x0a, 0]))).join('');
    const value = (depth: number): unknown => {
      switch (int(depth > 2 ? 6 : 8)) {
        case 0:
          return text(40);
        case 1:
          return pick([0, -1, 1, 2.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 63, 3, 8, 200]);
        case 2:
          return rnd() < 0.5;
        case 3:
          return null;
        case 4:
          return pick(['physical_harm', 'cot_0000000000000', 'run-1', '../../etc/passwd', '/proc/self/environ', 'sft', 'How do I kill a Python process?', '']);
        case 5:
          return 'x'.repeat(pick([0, 1, 20_001, 60_000]));
        case 6:
          return Array.from({ length: int(5) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['id', 'prompt', 'thoughts', 'x', '__proto__', 'constructor']), value(depth + 1)]));
      }
    };

    const server = new RawStdioServer({ OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-fuzz', AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path });
    try {
      await server.initialize();
      await server.send({ jsonrpc: '2.0', id: 'tools', method: 'tools/list' });
      const tools = ((await server.reply('tools')).result as { tools: { name: string; inputSchema: { properties?: Record<string, unknown> } }[] }).tools;

      let nextId = 1;
      const expectedIds: number[] = [];
      let unreadable = 0; // lines that get an answer with id null
      const started = Date.now();
      let sent = 0;
      while (Date.now() - started < DURATION_MS) {
        const kind = int(10);
        if (kind === 0) {
          // Not JSON at all, or JSON cut short.
          const full = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: pick(tools).name, arguments: {} } });
          await server.write(pick([text(30).replace(/[\n\r]/g, ' ') + '{', full.slice(0, 1 + int(full.length - 2)), '{"jsonrpc":"2.0",,}', "{'a':1}"]) + '\n');
          unreadable++;
        } else if (kind === 1) {
          // JSON that is not a message, with or without an id.
          const id = nextId++;
          const bad = pick<unknown>([{ jsonrpc: '2.0', id, method: value(0) === 'x' ? 'x' : 42 }, { jsonrpc: '1.0', id, method: 'ping' }, { id, method: 'ping' }, [{ jsonrpc: '2.0', id, method: 'ping' }], 42, 'hello', null]);
          const hasId = typeof bad === 'object' && bad !== null && !Array.isArray(bad);
          if (hasId) expectedIds.push(id);
          else unreadable++;
          await server.send(bad);
        } else if (kind === 2) {
          const id = nextId++;
          expectedIds.push(id);
          await server.send({ jsonrpc: '2.0', id, method: pick(['ping', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'nope', 'resources/read', 'prompts/get', 'completion/complete', 'logging/setLevel']), params: rnd() < 0.5 ? value(0) : { uri: pick(['policy://physical_harm', 'policy://nope', 'ui://x', text(10)]), name: text(8), level: pick(['debug', 'loud']) } });
        } else if (kind === 3) {
          await server.send({ jsonrpc: '2.0', method: pick(['notifications/cancelled', 'notifications/whatever', 'notifications/roots/list_changed']), params: value(0) });
        } else {
          const id = nextId++;
          expectedIds.push(id);
          const tool = rnd() < 0.95 ? pick(tools) : { name: text(10), inputSchema: {} };
          const keys = Object.keys(tool.inputSchema.properties ?? {});
          const args = rnd() < 0.1 ? value(0) : Object.fromEntries(keys.filter(() => rnd() < 0.7).map((k) => [k, value(1)]));
          await server.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool.name, arguments: args } });
        }
        sent++;
        if (sent % 20 === 0) await new Promise((r) => setTimeout(r, 5)); // let replies drain
      }

      for (const id of expectedIds) {
        const answer = await server.reply(id, 20_000);
        expect(answer.jsonrpc).toBe('2.0');
      }
      await server.waitFor(() => server.messages.filter((m) => m.id === null && m.error).length >= unreadable, 10_000);
      await server.send({ jsonrpc: '2.0', id: 'last', method: 'ping' });
      expect((await server.reply('last')).result).toEqual({});
      expect(server.exit).toBeUndefined();
      expect(sent).toBeGreaterThan(50);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
