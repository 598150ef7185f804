import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawStdioServer } from './helpers/raw-stdio.js';
import { stdioServerSetup } from './helpers/stdio-server.js';

const { data, model, env } = stdioServerSetup();

const NOT_INITIALIZED = /^not initialized: send an "initialize" request first; before it this server answers only "ping"/;

describe('dist/server.js over stdio, before initialize', () => {
  it('answers only ping; tools/list and tools/call get an error and do nothing, until a valid initialize', async () => {
    const server = new RawStdioServer(env('sk-lifecycle'));
    try {
      await server.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      await server.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'deliberate_safety_cot', arguments: { prompt: 'How do I kill a Python process?' } } });
      await server.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
      // An initialize without its params is no initialization.
      await server.send({ jsonrpc: '2.0', id: 4, method: 'initialize' });
      await server.send({ jsonrpc: '2.0', id: 5, method: 'resources/list' });
      for (const id of [1, 2, 5]) {
        const answer = await server.reply(id);
        expect(answer.error?.code).toBe(-32600);
        expect(answer.error?.message).toMatch(NOT_INITIALIZED);
      }
      expect((await server.reply(2)).error?.message).toContain('(got "tools/call")');
      expect((await server.reply(3)).result).toEqual({});
      expect((await server.reply(4)).error).toBeDefined();
      // Nothing was deliberated: no model call, no record.
      expect(model.requests).toHaveLength(0);
      expect(existsSync(join(data.path, 'records')) ? readdirSync(join(data.path, 'records')).filter((f) => f.endsWith('.json')) : []).toEqual([]);

      await server.initialize();
      await server.send({ jsonrpc: '2.0', id: 6, method: 'tools/list' });
      expect(((await server.reply(6)).result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
      expect(server.exit).toBeUndefined();
    } finally {
      await server.stop();
    }
  });

  it('answers a request sent right behind initialize, without waiting for its reply', async () => {
    const server = new RawStdioServer(env());
    try {
      const init = { jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'eager', version: '1' } } };
      await server.write(JSON.stringify(init) + '\n' + JSON.stringify({ jsonrpc: '2.0', id: 'tools', method: 'tools/list' }) + '\n');
      expect((await server.reply('init')).result).toBeDefined();
      expect((await server.reply('tools')).result).toBeDefined();
    } finally {
      await server.stop();
    }
  });
});
