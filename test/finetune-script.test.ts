import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliAgainst } from './helpers/fixtures.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const script = fileURLToPath(new URL('../scripts/finetune_trl.py', import.meta.url));
const xstest = fileURLToPath(new URL('../benchmarks/xstest.jsonl', import.meta.url));

/** scripts/finetune_trl.py with the machine's python3: its checks of the export run before torch is imported. */
function finetune(args: string[]): Promise<CliResult> {
  const child = spawn('python3', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Exports of a real run refused by finetune_trl.py when they do not fit its mode, each refusal saying what to change. */
describe('finetune_trl.py refuses an export that does not fit the mode', () => {
  const server = new ScriptedModelServer();
  const { data, env } = cliAgainst(server);
  const file = (name: string) => join(data.path, name);
  const train = (data: string, ...flags: string[]) => finetune(['--data', data, '--model', 'Qwen/Qwen3-8B', '--out', file('never-written'), ...flags]);

  it('names what to change for a messages export, a dpo file, an sft file in dpo mode and a reasoning field that differs', async () => {
    const ran = await runCli(['run', '--input', xstest, '--limit', '2', '--preference', '--run-id', 'finetune'], env);
    expect(ran.code, ran.stderr).toBe(0);
    for (const [name, args] of [
      ['sft.jsonl', ['--format', 'sft']],
      ['messages.jsonl', ['--format', 'sft', '--sft-shape', 'messages']],
      ['dpo.jsonl', ['--format', 'dpo']],
      ['rc.jsonl', ['--format', 'sft', '--reasoning', 'reasoning_content']],
    ] as const) {
      const out = await runCli(['export', '--run-id', 'finetune', ...args, '--out', file(name)], env);
      expect(out.code, out.stderr).toBe(0);
    }

    const messages = await train(file('messages.jsonl'));
    expect(messages.code).toBe(1);
    expect(messages.stderr).toMatch(/`messages` list \(exported with --sft-shape messages\)/);
    expect(messages.stderr).toMatch(/Export again without --sft-shape messages.*or pass --sft-shape messages here/);

    const dpoAsSft = await train(file('dpo.jsonl'));
    expect(dpoAsSft.code).toBe(1);
    expect(dpoAsSft.stderr).toMatch(/preference pairs .* train them with --mode dpo/);

    const sftAsDpo = await train(file('sft.jsonl'), '--mode', 'dpo');
    expect(sftAsDpo.code).toBe(1);
    expect(sftAsDpo.stderr).toMatch(/--mode dpo needs preference pairs .* export with --format dpo/);

    const shapeFlag = await train(file('sft.jsonl'), '--sft-shape', 'messages');
    expect(shapeFlag.code).toBe(1);
    expect(shapeFlag.stderr).toMatch(/drop --sft-shape messages/);

    const reasoning = await train(file('rc.jsonl'), '--reasoning', 'think');
    expect(reasoning.code).toBe(1);
    expect(reasoning.stderr).toMatch(/hold the chain of thought in `reasoning_content` .* pass --reasoning reasoning_content/);

    const missing = await train(file('nothing.jsonl'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/is not a file; write one with `aidsafe-mcp export/);
  }, 60_000);

  it('lists every flag in --help', async () => {
    const help = await finetune(['--help']);
    expect(help.code, help.stderr).toBe(0);
    for (const flag of ['--mode', '--data', '--sft-shape', '--reasoning', '--max-length', '--model', '--tokenizer', '--init-adapter', '--lora', '--full', '--rank', '--quantize', '--gradient-checkpointing', '--epochs', '--max-steps', '--lr', '--beta', '--batch-size', '--grad-accum', '--logging-steps', '--save-steps', '--seed', '--out', '--resume', '--merge']) {
      expect(help.stdout).toContain(flag);
    }
  });
});

/** The tiny-model walkthrough in docs/reproducing-the-paper.md shows the commands scripts/training-loop.sh runs. */
describe('the reproducing-the-paper page and the training loop script', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const loop = readFileSync(join(root, 'scripts', 'training-loop.sh'), 'utf8');
  const page = readFileSync(join(root, 'docs', 'reproducing-the-paper.md'), 'utf8');
  const walkthrough = page.slice(page.indexOf('## The loop on a tiny model, first'));

  it('gives each run and export of the script as the page writes it, paths relative to the work folder', () => {
    const commands = [...loop.matchAll(/^step [\w-]+ '[^']*' cli ((?:run|export) .*)$/gm)].map((m) => 'aidsafe-mcp ' + m[1]!.replace(/"\$WORK\/([^"]+)"/g, '$1'));
    expect(commands.length).toBe(4);
    for (const command of commands.filter((c) => !c.includes('sft-shape messages'))) expect(walkthrough).toContain(command);
    expect(walkthrough).toMatch(/aidsafe-mcp eval --target http:\/\/127\.0\.0\.1:PORT\/v1 --model dpo\/merged --suite xstest --limit 10/);
    expect(loop).toMatch(/cli eval --target "http:\/\/127\.0\.0\.1:\$PORT\/v1" --model "\$SERVED" --suite xstest --limit 10/);
    for (const flags of ['--max-steps 2', '--lr 1e30', '--max-steps 3 --resume', '--init-adapter', '--merge', '--max-length 256 --batch-size 1 --grad-accum 1 --logging-steps 1 --save-steps 1']) {
      expect(loop).toContain(flags);
      expect(walkthrough).toContain(flags);
    }
  });
});
