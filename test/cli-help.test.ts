import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagTable } from '../src/cli/options.js';
import { bar, progressView } from '../src/cli/progress-view.js';
import { COMMAND_NAMES, COMMANDS, ENVIRONMENT, type CommandName } from '../src/cli/usage.js';
import { SUITE_NAMES } from '../src/eval/suites.js';
import { ANSWER_COLUMNS, PROMPT_COLUMNS, THOUGHT_COLUMNS } from '../src/reasoning/dataset-chains.js';
import { EXPORT_FORMATS, REASONING_MODES, SFT_SHAPES } from '../src/store/export.js';
import { RECIPES } from '../src/store/record.js';
import type { BatchStatus } from '../src/pipeline/batch.js';
import { runCli, startCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('aidsafe-mcp --help', () => {
  for (const command of COMMAND_NAMES) {
    it(`${command} --help prints that command's usage and exits 0`, async () => {
      const result = await runCli([command, '--help'], {});
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: aidsafe-mcp ${command}`));
      expect((await runCli([command, '-h'], {})).stdout).toBe(result.stdout);
    });
  }

  it('help COMMAND prints that command\'s usage; help with an unknown command lists the commands', async () => {
    expect((await runCli(['help', 'export'], {})).stdout).toBe((await runCli(['export', '--help'], {})).stdout);
    expect(await runCli(['help', 'exprt'], {})).toMatchObject({ code: 2, stdout: '' });
  });

  it('every command the CLI dispatches is declared, so it has help and flag tables', () => {
    const dispatched = [...read('src/cli.ts').matchAll(/^ {4}case '([a-z]+)':/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(dispatched.sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('--help lists every command', async () => {
    const { stdout, code } = await runCli(['--help'], {});
    expect(code).toBe(0);
    for (const command of [...COMMAND_NAMES, '--version']) expect(stdout).toContain(`aidsafe-mcp ${command}`);
    expect(stdout).toContain('docs/configuration.md');
    expect(stdout).not.toContain('README');
  });
});

/** Every flag any command declares or any page names, and one that nothing declares. */
function candidateFlags(): string[] {
  const declared = COMMAND_NAMES.flatMap((command) => Object.keys(COMMANDS[command].flags));
  const docs = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const named = docs.flatMap((path) => [...read(path).matchAll(/(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])/g)].map((m) => m[1]!));
  return [...new Set([...declared, ...named, 'no-such-flag'])].filter((flag) => flag !== 'help' && flag !== 'version').sort();
}

/** The flags the built CLI rejects as unknown, read from its one error line. */
function rejected(stderr: string): string[] {
  const line = stderr.split('\n').find((l) => /^aidsafe-mcp: unknown options? /.test(l));
  if (!line) return [];
  return [...line.replace(/\(did you mean [^)]*\)/g, '').split('; `aidsafe-mcp')[0]!.matchAll(/--([a-z0-9-]+)/g)].map((m) => m[1]!);
}

describe('every flag a command accepts is in its --help and in docs/cli.md', () => {
  const candidates = candidateFlags();
  const cliDoc = read('docs/cli.md');

  for (const command of COMMAND_NAMES) {
    it(command, async () => {
      // One run with every candidate: the parser names each flag it does not know, before doing anything.
      const result = await runCli([command, ...candidates.map((flag) => `--${flag}=x`)], {});
      const unknown = rejected(result.stderr);
      expect(result.code, result.stderr).toBe(2);
      expect(unknown, result.stderr).toContain('no-such-flag');
      const accepted = candidates.filter((flag) => !unknown.includes(flag));
      expect(accepted).toEqual(Object.keys(COMMANDS[command].flags).sort());

      const help = (await runCli([command, '--help'], {})).stdout;
      const listed = [...help.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1]!).filter((flag) => flag !== 'help');
      expect(listed.sort()).toEqual(accepted);

      const table = cliDoc.split(`<!-- flags ${command}:`)[1]!.split('<!-- /flags -->')[0]!;
      for (const flag of accepted) expect(table).toContain(`\`--${flag}`);
    });
  }

  it('the flags named in a synopsis are declared', () => {
    for (const command of COMMAND_NAMES) {
      for (const [, flag] of COMMANDS[command].synopsis.matchAll(/--([a-z0-9-]+)/g)) expect(Object.keys(COMMANDS[command].flags), `${command}: --${flag}`).toContain(flag);
    }
  });

  it('placeholders that list choices list the ones the code takes', () => {
    expect(COMMANDS.export.flags.format.value).toBe(EXPORT_FORMATS.join('|'));
    expect(COMMANDS.export.synopsis).toContain(`--format ${EXPORT_FORMATS.join('|')}`);
    expect(COMMANDS.export.flags['sft-shape'].value).toBe(SFT_SHAPES.join('|'));
    expect(COMMANDS.export.flags.reasoning.value).toBe(REASONING_MODES.join('|'));
    expect(COMMANDS.run.flags.recipe.value).toBe(RECIPES.join('|'));
    expect(COMMANDS.eval.flags.suite.help).toContain(SUITE_NAMES.join(', '));
    const known = (columns: readonly string[]) => columns.map((c) => `\`${c}\``).join(', ');
    expect(COMMANDS.lint.flags.column.details).toContain(known([...THOUGHT_COLUMNS, ...ANSWER_COLUMNS]));
    expect(COMMANDS.lint.flags['prompt-column'].details).toContain(known(PROMPT_COLUMNS));
  });

  it('docs/cli.md has the flag tables made from the declarations', async () => {
    const made = cliDoc.replace(/(<!-- flags ([a-z]+):[^\n]*-->\n)[\s\S]*?(<!-- \/flags -->)/g, (_, open: string, command: string, close: string) => {
      expect(COMMAND_NAMES).toContain(command);
      return `${open}${flagTable(COMMANDS[command as CommandName].flags)}\n${close}`;
    });
    for (const command of COMMAND_NAMES) expect(made).toContain(`<!-- flags ${command}:`);
    await expect(made).toMatchFileSnapshot('../docs/cli.md');
  });
});

describe('mistakes on the command line', () => {
  it('a mistyped flag is named with the closest known one, and exits 2', async () => {
    const result = await runCli(['run', '--input', 'prompts.csv', '--limt', '5'], {});
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('aidsafe-mcp: unknown option --limt; did you mean --limit? (`aidsafe-mcp run --help` lists its options)\n');
    expect((await runCli(['eval', '--fail-fats', '3'], {})).stderr).toContain('unknown option --fail-fats; did you mean --fail-fast?');
    expect((await runCli(['export', '--sft-shap', 'messages'], {})).stderr).toContain('did you mean --sft-shape?');
    expect((await runCli(['serve', '--prot', '1'], {})).stderr).toContain('unknown option --prot; did you mean --port?');
  });

  it('a flag like no known one gets no guess; several are named together', async () => {
    const far = await runCli(['report', '--zebra'], {});
    expect(far).toMatchObject({ code: 2, stderr: 'aidsafe-mcp: unknown option --zebra (`aidsafe-mcp report --help` lists its options)\n' });
    const two = await runCli(['runs', '--all', '-x'], {});
    expect(two).toMatchObject({ code: 2, stderr: 'aidsafe-mcp: unknown options --all, -x; `aidsafe-mcp runs --help` lists its options\n' });
  });

  it('an unknown command lists the commands, not the whole help, and exits 2', async () => {
    const result = await runCli(['expot', '--format', 'sft'], {});
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('unknown command "expot"; did you mean export?');
    expect(result.stderr).toContain(`The commands are ${COMMAND_NAMES.join(', ')}`);
    expect(result.stderr).not.toContain('Environment');
    expect(result.stderr.split('\n').length).toBeLessThanOrEqual(3);
    expect((await runCli(['frobnicate'], {})).stderr).not.toContain('did you mean');
  });
});

describe('the environment list in --help', () => {
  /** Variables that the operating system or a job scheduler sets, which the user does not choose. */
  const setBySystem = ['APPDATA', 'XDG_DATA_HOME', 'JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_COUNT'];

  function sources(dir: URL): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(new URL(`${e.name}/`, dir)) : e.name.endsWith('.ts') ? [readFileSync(new URL(e.name, dir), 'utf8')] : []));
  }

  it('names every variable the program reads, and only those; docs/configuration.md describes each', async () => {
    // Comments may name variables the code keeps away from (the openai client's own defaults).
    const text = sources(new URL('src/', root))
      .join('\n')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(?<!:)\/\/.*$/gm, '');
    const declared = new Set([...text.matchAll(/\b(?:const|let|var|function)\s+([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
    const read = new Set(
      [...text.matchAll(/\b(?:AIDSAFE|OPENAI|HF)_[A-Z0-9_]*[A-Z0-9]\b/g), ...[...text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((m) => [m[1]!])].map((m) => m[0]!).filter((name) => !declared.has(name) && !setBySystem.includes(name)),
    );
    expect(ENVIRONMENT.map((v) => v.name).sort()).toEqual([...read].sort());

    const help = (await runCli(['--help'], {})).stdout;
    const configuration = readFileSync(new URL('docs/configuration.md', root), 'utf8');
    for (const { name } of ENVIRONMENT) {
      expect(help).toMatch(new RegExp(`^ {2}${name} `, 'm'));
      expect(configuration).toContain(`\`${name}\``);
    }
  });

  it("a command's help lists the variables that command reads", async () => {
    const serve = (await runCli(['serve', '--help'], {})).stdout;
    expect(serve).toContain('AIDSAFE_HTTP_TOKEN');
    const run = (await runCli(['run', '--help'], {})).stdout;
    expect(run).toContain('OPENAI_BASE_URL');
    expect(run).not.toContain('AIDSAFE_HTTP_TOKEN');
    expect((await runCli(['export', '--help'], {})).stdout).toContain('HF_TOKEN');
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
