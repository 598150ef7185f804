import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../src/inputs/csv.js';
import { readPromptFile } from '../src/inputs/read-prompts.js';
import { BENCHMARKS, tempDir } from './helpers/fixtures.js';

const dir = tempDir();
afterAll(() => dir.remove());
const dataset = (name: string) => fileURLToPath(new URL(name, BENCHMARKS));

describe('CSV (RFC 4180)', () => {
  it('handles quoted commas, doubled quotes, newlines inside fields, CRLF and no final newline', () => {
    expect(parseCsv('a,b\r\n"x, y","he said ""hi"""\r\n"multi\nline",z')).toEqual([
      ['a', 'b'],
      ['x, y', 'he said "hi"'],
      ['multi\nline', 'z'],
    ]);
    expect(parseCsv('a,b\n1,\n,2\n')).toEqual([
      ['a', 'b'],
      ['1', ''],
      ['', '2'],
    ]);
    expect(parseCsv('\ufeffh\nv')).toEqual([['h'], ['v']]);
    expect(parseCsv('a,b\n\n1,2\n\n')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('refuses an unterminated quote instead of merging the rows after it, naming the line it opened on', () => {
    expect(() => parseCsv('prompt,id\nfirst,1\n"second,2\nthird,3\nfourth,4\n')).toThrow(/^line 3: a quoted field is never closed/);
  });

  it('refuses a row with the wrong number of fields, naming its line', () => {
    expect(() => parseCsv('prompt,id\nfirst,1\nsecond,2,extra\n')).toThrow(/^line 3: the row has 3 fields, the header has 2$/);
    expect(() => parseCsv('prompt,id\nfirst,1\nsecond\n')).toThrow(/^line 3: the row has 1 fields, the header has 2$/);
  });
});

describe('prompt files', () => {
  // Row counts of the public files (benchmarks/README.md); HarmBench holds its test and validation splits.
  const expected: [string, number, string][] = [
    ['xstest.jsonl', 450, 'prompt'],
    ['strongreject.jsonl', 313, 'forbidden_prompt'],
    ['harmbench.jsonl', 400, 'Behavior'],
    ['advbench.jsonl', 520, 'goal'],
    ['donotanswer.jsonl', 939, 'question'],
  ];
  for (const [file, rows, column] of expected) {
    it(`loads the shipped ${file} as it is: ${rows} rows, prompt column ${column}`, async () => {
      const input = await readPromptFile(dataset(file));
      expect(input.rows).toHaveLength(rows);
      expect(input.column).toBe(column);
      expect(input.rows.every((r) => r.prompt.trim().length > 0)).toBe(true);
      expect(input.sha256).toMatch(/^[0-9a-f]{64}$/);
    });
  }

  it('keeps the other columns as metadata', async () => {
    const input = await readPromptFile(dataset('xstest.jsonl'));
    expect(input.rows[0]?.metadata).toMatchObject({ id: '1', type: 'homonyms', label: 'safe' });
    const harm = await readPromptFile(dataset('harmbench.jsonl'));
    expect(harm.rows.some((r) => String(r.metadata.ContextString).includes('\n'))).toBe(true);
    expect(harm.rows.filter((r) => r.metadata.split === 'test')).toHaveLength(320);
    expect(harm.rows.filter((r) => r.metadata.split === 'val')).toHaveLength(80);
  });

  it('reads a CSV with CRLF records and LF inside quoted fields without a stray carriage return', async () => {
    const path = join(dir.path, 'mixed.csv');
    writeFileSync(path, 'Behavior,ContextString\r\n"first",""\r\n"second","a\nmulti-line\ncontext"\r\n"third",""');
    const input = await readPromptFile(path, 'Behavior');
    expect(input.rows.map((r) => r.prompt)).toEqual(['first', 'second', 'third']);
    expect(input.rows[1]?.metadata.ContextString).toBe('a\nmulti-line\ncontext');
  });

  it('puts a HarmBench contextual behavior after its context, as HarmBench does', async () => {
    const harm = await readPromptFile(dataset('harmbench.jsonl'));
    const contextual = harm.rows.filter((r) => r.metadata.FunctionalCategory === 'contextual');
    expect(contextual).toHaveLength(100);
    for (const row of contextual) expect(row.prompt).toBe(`${String(row.metadata.ContextString)}\n\n---\n\n${row.prompt.split('\n\n---\n\n').at(-1)}`);
    expect(new Set(harm.rows.map((r) => r.prompt)).size).toBe(400);
    const plain = harm.rows.find((r) => r.metadata.FunctionalCategory === 'standard');
    expect(plain?.prompt).not.toContain('---');
    // naming the column asks for the column as it is
    const named = await readPromptFile(dataset('harmbench.jsonl'), 'Behavior');
    expect(named.rows.every((r) => !r.prompt.includes('\n\n---\n\n'))).toBe(true);
  });

  it('reads JSONL and a named column, and names what is wrong', async () => {
    const path = join(dir.path, 'p.jsonl');
    writeFileSync(path, '{"question":"q1","cat":"a"}\n\n{"question":"q2","cat":"b"}\r\n');
    const input = await readPromptFile(path);
    expect(input.rows.map((r) => [r.prompt, r.metadata.cat])).toEqual([
      ['q1', 'a'],
      ['q2', 'b'],
    ]);
    await expect(readPromptFile(path, 'nope')).rejects.toThrow(/column: .* has no column "nope"; its columns are: question, cat/);
    writeFileSync(path, '{"question":"q1"}\nnot json\n');
    await expect(readPromptFile(path)).rejects.toThrow(/line 2 is not valid JSON/);
    const csv = join(dir.path, 'x.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    await expect(readPromptFile(csv)).rejects.toThrow(/no column named prompt, question, goal, forbidden_prompt, Behavior; choose one of its columns: a, b/);
    await expect(readPromptFile(join(dir.path, 'missing.csv'))).rejects.toThrow(/cannot read .*ENOENT/);
    writeFileSync(csv, 'prompt,id\n"never closed,1\nnext,2\n');
    await expect(readPromptFile(csv)).rejects.toThrow(/input_path: .*x\.csv line 2: a quoted field is never closed/);
  });

  it('never quotes the file in an error: columns are named only when the file is a table with a header of names', async () => {
    const secret = 'sk-never-echoed-0123456789abcdef';
    const env = join(dir.path, 'env.csv');
    writeFileSync(env, `OPENAI_API_KEY=${secret}\n`);
    await expect(readPromptFile(env, 'zzz')).rejects.toThrow(/has no column "zzz"; its first line does not look like a header of column names$/);
    const passwd = join(dir.path, 'passwd.csv');
    writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
    await expect(readPromptFile(passwd, 'zzz')).rejects.toThrow(/its first line does not look like a header of column names$/);
    const jsonl = join(dir.path, 'secret.jsonl');
    writeFileSync(jsonl, `{"q":1}\n${secret}\n`);
    const error = await readPromptFile(jsonl).catch((e: unknown) => e as Error);
    expect(String(error)).toMatch(/line 2 is not valid JSON$/);
    expect(String(error)).not.toContain(secret);
  });

  it('reads only regular files', async () => {
    await expect(readPromptFile(dir.path)).rejects.toThrow(/is not a regular file/);
    const fifo = join(dir.path, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    await expect(readPromptFile(fifo)).rejects.toThrow(/is not a regular file/);
  });
});
