import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderTransport } from '../src/llm/batch/provider-transport.js';

/**
 * The Batch API client's deadlines, against a raw HTTP server on 127.0.0.1 that answers 200 and then
 * sends its body at a chosen pace: a poll must not hang on a body that stalls, and a batch's output
 * file, however long, must come through while its bytes keep arriving.
 */

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `text` in `pieces` parts, `gapMs` apart, stopping if the client hangs up. */
async function paced(res: ServerResponse, text: string, pieces: number, gapMs: number, contentType = 'application/json'): Promise<void> {
  res.writeHead(200, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.flushHeaders();
  const size = Math.ceil(text.length / pieces);
  for (let i = 0; i < text.length && !res.destroyed; i += size) {
    res.write(text.slice(i, i + size));
    await sleep(gapMs);
  }
  if (!res.destroyed) res.end();
}

async function start(handle: (path: string, res: ServerResponse) => Promise<void>): Promise<ProviderTransport> {
  server = createServer((req, res) => void handle(req.url ?? '', res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return new ProviderTransport({ model: 'scripted-model', baseURL: url, apiKeyEnv: 'AIDSAFE_TEST_KEY', temperature: undefined }, 400, {});
}

const batch = (status: string) => JSON.stringify({ id: 'batch_1', object: 'batch', status, output_file_id: 'file_out', error_file_id: null });

describe('the Batch API client under slow bodies', () => {
  it('a poll whose body stalls after the headers fails within the deadline', async () => {
    const transport = await start((_path, res) => paced(res, batch('in_progress'), 200, 1_000));
    const started = Date.now();
    await expect(transport.poll('batch_1')).rejects.toThrow(/within 400 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 15_000);

  it('an output file longer than the deadline comes through while its bytes keep coming', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ custom_id: `r${i}`, response: { status_code: 200 } }));
    const transport = await start((path, res) => (path.includes('/files/') ? paced(res, lines.join('\n') + '\n', 10, 100, 'application/octet-stream') : paced(res, batch('completed'), 1, 0)));
    const started = Date.now();
    expect(await transport.results('batch_1')).toEqual(lines);
    expect(Date.now() - started).toBeGreaterThan(400);
  }, 15_000);

  it('an output file that stops arriving fails', async () => {
    const transport = await start((path, res) => (path.includes('/files/') ? paced(res, 'x'.repeat(1000), 2, 5_000, 'application/octet-stream') : paced(res, batch('completed'), 1, 0)));
    await expect(transport.results('batch_1')).rejects.toThrow(/within 400 ms/);
  }, 15_000);
});
