import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bar, progressView } from '../src/cli/progress-view.js';
import type { BatchStatus } from '../src/pipeline/batch.js';
import { runCli, startCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';

describe('aidsafe-mcp --help', () => {
  for (const command of ['serve', 'run', 'export', 'report', 'runs', 'eval']) {
    it(`${command} --help prints that command's usage and exits 0`, async () => {
      const result = await runCli([command, '--help'], {});
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: aidsafe-mcp ${command}`));
      expect((await runCli([command, '-h'], {})).stdout).toBe(result.stdout);
    });
  }

  it('--help lists every command', async () => {
    const { stdout, code } = await runCli(['--help'], {});
    expect(code).toBe(0);
    for (const command of ['serve', 'run', 'export', 'report', 'runs', 'eval', '--version']) expect(stdout).toContain(`aidsafe-mcp ${command}`);
  });
});

const status: BatchStatus = {
  run_id: 'xstest-0123456789abcdef',
  status: 'running',
  total: 123_456,
  done: 45_678,
  failed: 1_234,
  pending: 76_544,
  usage: { calls: 999_999, cached_calls: 0, prompt_tokens: 123_456_789, completion_tokens: 98_765_432, by_role: {}, by_model: {} },
  cost_usd: 1234.5678,
  concurrency: 256,
  rate_per_s: 12.34,
  eta_s: 7_654,
  input: { path: '/data/in.csv', column: 'prompt', rows: 123_456 } as BatchStatus['input'],
  options: {} as BatchStatus['options'],
  created_at: '2026-01-01T00:00:00.000Z',
  failures: [],
};

const visible = (s: string) => s.replaceAll('\x1b[K', '').replace(/[\r\n]/g, '');

describe('the progress bar on a terminal', () => {
  it('stays within the terminal width, 80 columns by default', () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: undefined, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    progressView(tty)({ ...status, status: 'done', stop_reason: 'budget: max_tokens reached' });
    expect(visible(written[0] ?? '').length).toBeLessThan(80);
    for (const columns of [40, 60, 100, 200]) {
      const line = visible(bar(status, columns));
      expect(line.length).toBeLessThan(columns);
      expect(line).toMatch(/^\[[#-]+\] 45678\/123456 done/);
    }
    expect(visible(bar({ ...status, cost_usd: undefined, eta_s: undefined }, 200))).not.toContain('…');
  });
});

describe('a reader that stops early', () => {
  it('`aidsafe-mcp runs | head -1` ends quietly with exit code 0, not an EPIPE crash', async () => {
    const data = tempDir();
    try {
      const manifest = (id: string) => ({
        id,
        created_at: '2026-11-28T00:00:00.000Z',
        updated_at: '2026-11-28T00:00:00.000Z',
        status: 'done',
        input: { path: '/prompts.csv', sha256: 'a'.repeat(64), column: 'prompt', rows: 1 },
        options: { agents: 2, max_rounds: 3, grade: false, preference: false, belief_rounds: 3, min_margin: 1, policy_ids: [] },
        total: 1,
        config_hash: '0'.repeat(16),
      });
      // Enough lines that the listing is still writing when the reader has gone.
      for (let i = 0; i < 2_000; i++) {
        const id = `run-${String(i).padStart(12, '0')}`;
        mkdirSync(join(data.path, 'runs', id), { recursive: true });
        writeFileSync(join(data.path, 'runs', id, 'run.json'), JSON.stringify(manifest(id)));
      }
      const { child, done } = startCli(['runs'], { AIDSAFE_DATA_DIR: data.path });
      child.stdout!.once('data', () => child.stdout!.destroy());
      const result = await done;
      expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
      expect(result.code).toBe(0);
    } finally {
      data.remove();
    }
  }, 60_000);
});
