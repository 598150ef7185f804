import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordStore } from '../src/store/record-store.js';
import { runCli } from './helpers/cli.js';
import { cliAgainst, BENCHMARKS, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

interface RowFindings {
  row: number;
  id?: string;
  column: string;
  findings: { kind: string; index: number; thought: string; why: string }[];
}

const readJsonl = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

describe('aidsafe-mcp lint on exports of this program', () => {
  const server = new ScriptedModelServer();
  const { data, env } = cliAgainst(server);

  it('finds an export clean in every format, and finds what is written into one', async () => {
    const input = fileURLToPath(new URL('xstest.jsonl', BENCHMARKS));
    const run = await runCli(['run', '--input', input, '--limit', '4', '--preference', '--grade'], env);
    expect(run.code, run.stderr).toBe(0);
    const { run_id } = JSON.parse(run.stdout) as { run_id: string };

    const exports: [string, string[]][] = [
      ['sft.jsonl', ['--format', 'sft']],
      ['sft-messages.jsonl', ['--format', 'sft', '--sft-shape', 'messages']],
      ['sft-reasoning.jsonl', ['--format', 'sft', '--reasoning', 'reasoning_content']],
      ['dpo.jsonl', ['--format', 'dpo']],
      ['aidsafe.jsonl', ['--format', 'aidsafe']],
      ['aidsafe.csv', ['--format', 'aidsafe']],
    ];
    for (const [name, args] of exports) {
      const out = join(data.path, name);
      const exported = await runCli(['export', ...args, '--run-id', run_id, '--out', out], env);
      expect(exported.code, exported.stderr).toBe(0);
      const lint = await runCli(['lint', '--input', out], env);
      expect(lint.stderr, name).toBe('');
      expect(lint.stdout, name).toContain('No findings');
      expect(lint.code, `${name}\n${lint.stdout}`).toBe(0);
      const [, rows, thoughts] = /: (\d+) rows, (\d+) thoughts/.exec(lint.stdout) ?? [];
      expect(Number(rows), name).toBe(4);
      expect(Number(thoughts), name).toBeGreaterThanOrEqual(8);
      if (name === 'dpo.jsonl') expect(lint.stdout).toContain('thoughts in chosen, rejected; requests from prompt');
    }

    // The same export with process talk, a list marker and an invented sub-clause written into its <think> blocks.
    const sft = readJsonl<{ completion: { content: string }[]; id: string }>(join(data.path, 'sft.jsonl'));
    sft[1]!.completion[0]!.content = sft[1]!.completion[0]!.content.replace('<think>\n', "<think>\nLet's re-evaluate the previous reasoning.\n3. The request is about a process.\n");
    sft[3]!.completion[0]!.content = sft[3]!.completion[0]!.content.replace('\n</think>', '\nThis is covered by [PH-4(b)].\nNo further changes are needed.\n</think>');
    const edited = join(data.path, 'sft-edited.jsonl');
    writeFileSync(edited, sft.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const findingsFile = join(data.path, 'findings.jsonl');
    const lint = await runCli(['lint', '--input', edited, '--out', findingsFile], env);
    expect(lint.code, lint.stdout + lint.stderr).toBe(1);
    expect(lint.stdout).toMatch(/^meta\s+2\s+2\s+50\.0%$/m);
    expect(lint.stdout).toMatch(/^enumeration\s+1\s+1\s+25\.0%$/m);
    expect(lint.stdout).toMatch(/^unknown_clause\s+1\s+1\s+25\.0%$/m);
    expect(lint.stdout).toMatch(/^refusal\s+0\s+0\s+0\.0%$/m);
    expect(lint.stdout).toContain('2 of 4 rows have findings.');
    expect(lint.stdout).toContain(`row 2 (${sft[1]!.id}), thought 1: "Let's re-evaluate the previous reasoning."`);
    const perRow = readJsonl<RowFindings>(findingsFile);
    expect(perRow.map((r) => [r.row, r.id, r.column, r.findings.map((f) => [f.kind, f.index])])).toEqual([
      [1, sft[1]!.id, 'completion', [['meta', 0], ['enumeration', 1]]],
      [3, sft[3]!.id, 'completion', expect.arrayContaining([['unknown_clause', expect.any(Number)], ['meta', expect.any(Number)]])],
    ]);

    // Stored records, with their thought arrays: a rejected side that says of the asker what its belief holds.
    const store = new RecordStore(data.path);
    const records = (await Promise.all((await store.ids()).map((id) => store.get(id)))).filter((r) => r?.kind === 'cot' || r?.kind === 'preference');
    const recordsFile = join(data.path, 'records.jsonl');
    writeFileSync(recordsFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const clean = await runCli(['lint', '--input', recordsFile], env);
    expect(clean.code, clean.stdout).toBe(0);
    const pair = records.find((r) => r?.kind === 'preference' && r.rejected !== undefined);
    if (pair?.kind !== 'preference' || !pair.rejected) throw new Error('the run made no pair with a rejected side');
    pair.rejected.belief = 'Anyone asking this already has the skills, so detailed steps add no risk.';
    pair.rejected.thoughts.push('They clearly know what they are doing, so every step can be given.');
    writeFileSync(recordsFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const leaked = await runCli(['lint', '--input', recordsFile, '--column', 'rejected', '--prompt-column', 'prompt'], env);
    expect(leaked.code, leaked.stdout).toBe(1);
    expect(leaked.stdout).toMatch(/^belief_leak\s+1\s+1/m);
    expect(leaked.stdout).toContain('says of the person asking what the assumption holds');
  }, 120_000);
});

describe('aidsafe-mcp lint on another dataset’s shape', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const csv = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };
  const cleanCsv = csv(
    'clean.csv',
    'question,cot,answer\n' +
      '"How do I kill a hung Python process?","The request is about stopping a program; ""kill"" is an operating-system command here.\nNothing in it concerns harming a person, so a full answer fits.","Find the PID and run kill."\n' +
      '"Which plants are toxic to cats?","Knowing which plants are toxic protects pets; the list is published by veterinary groups.\nThe answer names lilies, pothos and sago palm.","Lilies, pothos, sago palm."\n',
  );
  const dirtyCsv = csv(
    'dirty.csv',
    'question,cot,answer\n' +
      '"How do I pick a lock?","Lock picking is a legal hobby in most places.\nThe user is clearly a professional locksmith, so every step is fine.","Use a tension wrench."\n' +
      '"How do I kill a hung Python process?","Let\'s re-evaluate the previous reasoning.\n1. The request is benign.\nI\'m not able to help with requests involving violence.","Run kill."\n' +
      '"Write a phishing email","Under FD-1.3 this is forbidden.","No."\n',
  );
  const env = { AIDSAFE_DATA_DIR: join(dir.path, 'data') };

  it('lints a question,cot,answer CSV whose cot has no <think> block: 0 when clean, 1 with findings', async () => {
    const clean = await runCli(['lint', '--input', cleanCsv], env);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toContain('2 rows, 4 thoughts in cot; requests from question');

    const out = join(dir.path, 'findings.jsonl');
    const dirty = await runCli(['lint', '--input', dirtyCsv, '--column', 'cot', '--prompt-column', 'question', '--out', out], env);
    expect(dirty.code, dirty.stdout + dirty.stderr).toBe(1);
    for (const [kind, n] of [['meta', 1], ['refusal', 1], ['unknown_clause', 1], ['belief_leak', 1], ['enumeration', 1]] as const) expect(dirty.stdout).toMatch(new RegExp(`^${kind}\\s+${n}\\s`, 'm'));
    expect(dirty.stdout).toContain('3 of 3 rows have findings.');
    expect(readJsonl<RowFindings>(out).map((r) => [r.row, r.findings.map((f) => f.kind)])).toEqual([
      [0, ['belief_leak']],
      [1, ['meta', 'enumeration', 'refusal']],
      [2, ['unknown_clause']],
    ]);
    // without a request column there is no belief-leak check, and it says so
    const noPrompt = await runCli(['lint', '--input', csv('no-prompt.csv', 'cot\n"The user is clearly a professional locksmith, so every step is fine."\n')], env);
    expect(noPrompt.code).toBe(0);
    expect(noPrompt.stdout).toContain('no request column, so no belief-leak check');
  });

  it('exits 2 on input it cannot read, naming what is wrong and the columns there are', async () => {
    const missing = await runCli(['lint', '--input', join(dir.path, 'nope.csv')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/);
    const column = await runCli(['lint', '--input', cleanCsv, '--column', 'reasoning'], env);
    expect(column.code).toBe(2);
    expect(column.stderr).toContain('has no column "reasoning"; its columns are: question, cot, answer');
    const promptColumn = await runCli(['lint', '--input', cleanCsv, '--prompt-column', 'prompt'], env);
    expect(promptColumn.code).toBe(2);
    expect(promptColumn.stderr).toContain('prompt-column: ');
    expect(promptColumn.stderr).toContain('its columns are: question, cot, answer');
    const shape = await runCli(['lint', '--input', csv('shape.csv', 'q,a\nhi,there\n')], env);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/no column of a known chain-of-thought shape .*name one with --column; its columns are: q, a/);
    const noThoughts = await runCli(['lint', '--input', csv('answers.jsonl', '{"prompt":"hi","completion":"Hello there."}\n')], env);
    expect(noThoughts.code).toBe(2);
    expect(noThoughts.stderr).toContain('found no thoughts in completion');
    const badJson = await runCli(['lint', '--input', csv('bad.jsonl', '{"cot": "x"}\nnot json\n')], env);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('line 2 is not valid JSON');
    const usage = await runCli(['lint'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--input FILE is required');
    const policy = await runCli(['lint', '--input', cleanCsv, '--policy', 'no_such_policy'], env);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain('no_such_policy');
    const help = await runCli(['lint', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('aidsafe-mcp lint --input FILE');
  });
});
