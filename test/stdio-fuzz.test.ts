import { describe, expect, it } from 'vitest';
import { fuzzer } from './helpers/fuzz.js';
import { RawStdioServer } from './helpers/raw-stdio.js';
import { stdioServerSetup } from './helpers/stdio-server.js';

// Seeded, so a failure repeats: FUZZ_SEED=… FUZZ_MS=… npx vitest run test/stdio-fuzz.test.ts
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_128);
const DURATION_MS = Number(process.env.FUZZ_MS ?? 3_000);

const { env } = stdioServerSetup();

describe('dist/server.js over stdio, fuzzed', () => {
  it(`answers every request and never exits (seed ${SEED}, ${DURATION_MS} ms)`, async () => {
    const { rnd, int, pick, text, value, argsFor, method, paramsFor } = fuzzer(SEED);

    const server = new RawStdioServer(env('sk-fuzz'));
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
          await server.send({ jsonrpc: '2.0', id, method: method(), params: paramsFor() });
        } else if (kind === 3) {
          await server.send({ jsonrpc: '2.0', method: pick(['notifications/cancelled', 'notifications/whatever', 'notifications/roots/list_changed']), params: value(0) });
        } else {
          const id = nextId++;
          expectedIds.push(id);
          const tool = rnd() < 0.95 ? pick(tools) : { name: text(10), inputSchema: {} };
          await server.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool.name, arguments: argsFor(tool) } });
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
