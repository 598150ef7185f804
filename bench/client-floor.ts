import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

/**
 * The same number of calls at the same concurrency and latency through the bare openai client, with no
 * pipeline, cache or store: the best efficiency this machine allows, to read the pipeline's figure against.
 */
export async function benchClientFloor(calls: number, concurrency: number, latencyMs: number): Promise<{ calls: number; wall_s: number; efficiency: number }> {
  const serverJs = fileURLToPath(new URL('./model-server-process.js', import.meta.url));
  const server = spawn(process.execPath, [serverJs, String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => server.stdout.once('data', (c: Buffer) => resolve(c.toString().trim())));
  try {
    const client = new OpenAI({ apiKey: 'unused', baseURL: url, maxRetries: 0 });
    const system = 'x'.repeat(6_000);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < calls) {
          next++;
          await client.chat.completions.create({
            model: 'scripted-model',
            messages: [
              { role: 'system', content: system },
              { role: 'user', content: JSON.stringify({ query: `prompt ${next}` }) },
            ],
            response_format: { type: 'json_schema', json_schema: { name: 'response', schema: { type: 'object' } } },
          });
        }
      }),
    );
    const wall = (performance.now() - t0) / 1000;
    const ideal = (calls * latencyMs) / 1000 / concurrency;
    return { calls, wall_s: Math.round(wall * 100) / 100, efficiency: Math.round((ideal / wall) * 1000) / 1000 };
  } finally {
    server.kill('SIGTERM');
  }
}
