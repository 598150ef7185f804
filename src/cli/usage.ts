import { VERSION } from '../version.js';
import { closest, flagLines, twoColumns, type CommandSpec, type Flag } from './options.js';

// Flags that more than one command takes, declared once each.
const budgets = {
  'max-samples': { type: 'string', value: 'N', help: 'stop starting samples once N are done, across resumes' },
  'max-tokens': { type: 'string', value: 'N', help: 'stop starting samples once N tokens are used, across resumes' },
  'max-cost': { type: 'string', value: 'USD', help: "stop starting samples once this much is spent (by the config file's prices)" },
} as const satisfies Record<string, Flag>;

const failFast = {
  type: 'string',
  value: 'N',
  help: 'stop as failed when the first N samples all fail the same way; 0 never stops early',
  default: '8',
} as const satisfies Flag;

const screening = {
  dedup: { type: 'boolean', help: 'leave out duplicate and near-duplicate prompts', details: 'see [Dedup and decontamination](exports.md#dedup-and-decontamination)' },
  'dedup-threshold': { type: 'string', value: 'X', help: 'Jaccard similarity from which two prompts are near duplicates (with --dedup)', default: '0.7' },
  decontaminate: {
    type: 'string',
    value: 'SETS|FILE',
    help: 'leave out prompts that match benchmark prompts: all, xstest,strongreject,… or a CSV/JSONL file',
  },
  ngram: { type: 'string', value: 'N', help: 'word n-gram length that --decontaminate compares', default: '8' },
  'ngram-overlap': { type: 'string', value: 'X', help: "share of a benchmark prompt's n-grams from which a prompt matches it", default: '0.5' },
} as const satisfies Record<string, Flag>;

/**
 * Every command with its flags. The parsers in src/cli/*-command.ts take their flags from here, and
 * `--help` and the flag tables in docs/cli.md are made from the same entries (a test holds the docs to them).
 */
export const COMMANDS = {
  serve: {
    synopsis: 'serve [--http [--host HOST] [--port N]]',
    title: 'serve MCP over stdio (what Claude Desktop, VS Code and Cursor start), or over HTTP',
    summary: `Serves MCP over stdio, or with --http over Streamable HTTP at /mcp. Over HTTP, set
AIDSAFE_HTTP_TOKEN to require a bearer token (required on any host but loopback).
With no command at all, aidsafe-mcp serves over stdio.`,
    flags: {
      http: { type: 'boolean', help: 'serve Streamable HTTP at /mcp instead of stdio' },
      host: { type: 'string', value: 'HOST', help: 'address to bind (with --http)', default: '127.0.0.1' },
      port: { type: 'string', value: 'N', help: 'port to listen on, 0 for any free one (with --http)', default: '3333' },
    },
  },
  preview: {
    synopsis: 'preview [--input FILE] [options]',
    title: 'try the model on a few prompts first: a health table and a go/no-go verdict',
    summary: `Runs a few prompts through the recipe on the configured model before a long run: 8 by
default (half XSTest's safe prompts, half StrongREJECT's harmful ones), or the first rows of
--input. Prints a health table (replies valid on first try, repairs, thoughts the linter
removed, deliberations that agreed, pairs kept, tokens, cost and time per sample), a go/no-go
line naming the worst figure and what to change, and two samples as the sft export writes
them. The run is stored as preview-…; the same command resumes it. Exits 0 on go, 1 on
no-go, 2 on bad command-line input.`,
    flags: {
      input: { type: 'string', value: 'FILE', help: 'a CSV or JSONL prompt file instead of the shipped prompts' },
      column: { type: 'string', value: 'C', help: 'the prompt column of --input' },
      limit: { type: 'string', value: 'N', help: 'prompts to run, 1 to 200 (the first N rows of --input)', default: '8' },
      recipe: { type: 'string', value: 'aidsafe|baseline', help: 'what one sample is, as for run', default: 'aidsafe' },
      agents: { type: 'string', value: 'N', help: 'deliberation agents, 1 to 8', default: '2' },
      'max-rounds': { type: 'string', value: 'N', help: 'deliberation rounds at most, 1 to 10', default: '3' },
      grade: { type: 'boolean', help: 'grade each sample' },
      preference: { type: 'boolean', help: 'make a preference pair for each sample' },
      'belief-rounds': { type: 'string', value: 'N', help: 'belief-augmentation rounds of a preference pair, 1 to 5', default: '3' },
      'min-margin': { type: 'string', value: 'M', help: 'score margin a preference pair needs to be kept, 0 to 4', default: '1' },
      policy: { type: 'string', multiple: true, value: 'ID', help: 'use this policy only', default: 'all' },
      concurrency: { type: 'string', value: 'N', help: 'samples in flight, 1 to 64', default: '4' },
      'max-cost': budgets['max-cost'],
      'run-id': { type: 'string', value: 'ID', help: 'name the run', default: 'preview-… derived from the prompts, options and models' },
      json: { type: 'boolean', help: 'print the figures, verdict and samples as one JSON object' },
    },
  },
  run: {
    synopsis: 'run --input PATH [options]',
    title: 'generate a dataset from a CSV or JSONL prompt file (resumable)',
    summary: `Generates a dataset from a CSV or JSONL prompt file. Running the same command again
resumes the same run: finished samples are kept, failed and missing ones are run.
Exits 0 when every sample succeeded, 3 when some failed, 1 when the run failed, 130 when
stopped by a signal, 2 on bad command-line input.`,
    flags: {
      input: {
        type: 'string',
        value: 'PATH',
        help: 'the prompt file, CSV or JSONL (required)',
        details:
          'a regular file: CSV (RFC 4180, read with csv-parse: quoted fields with commas, quotes and newlines; CRLF or LF; no final newline needed; an unclosed quote or a row with another number of fields than the header is an error naming its line) or JSONL (`.jsonl`, `.ndjson`, `.json`)',
      },
      column: {
        type: 'string',
        value: 'C',
        help: 'the prompt column; the other columns are kept as metadata',
        details:
          "default as for `start_batch`. With the default column, a HarmBench contextual row becomes its `ContextString`, a `---` line, then its `Behavior`, as HarmBench builds it (the same Behavior recurs with different contexts)",
      },
      limit: { type: 'string', value: 'N', help: 'only the first N rows' },
      concurrency: { type: 'string', value: 'N', help: 'samples in flight, at most 256 (100,000 in batch mode)', default: '8; 1,000 in batch mode' },
      'run-id': {
        type: 'string',
        value: 'ID',
        help: 'name the run',
        details: "by default the id is derived from the input's content, the options and each role's model and temperature (not the server's address)",
      },
      recipe: { type: 'string', value: 'aidsafe|baseline', help: "what one sample is; baseline: one model, zero-shot, the paper's comparison", default: 'aidsafe', details: 'see [Recipes](recipe.md#recipes); it enters the run id' },
      grade: { type: 'boolean', help: 'grade each sample' },
      preference: { type: 'boolean', help: 'make a preference pair for each sample' },
      shard: {
        type: 'string',
        value: 'I/N|auto',
        help: 'take shard I of N of the rows; auto reads I and N from a Kubernetes Indexed Job or a Slurm array',
        details: 'so N machines split one input (`1/4` … `4/4`); see [Sharded runs](scale.md#sharded-runs-on-kubernetes-and-slurm); `aidsafe-mcp merge` joins the shards\' data folders',
      },
      agents: { type: 'string', value: 'N', help: 'deliberation agents, 1 to 8', default: '2' },
      'max-rounds': { type: 'string', value: 'N', help: 'deliberation rounds at most, 1 to 10', default: '3' },
      'belief-rounds': { type: 'string', value: 'N', help: 'belief-augmentation rounds of a preference pair, 1 to 5', default: '3' },
      'min-margin': { type: 'string', value: 'M', help: 'score margin a preference pair needs to be kept, 0 to 4', default: '1' },
      policy: { type: 'string', multiple: true, value: 'ID', help: 'use this policy only (built in or from AIDSAFE_POLICIES_DIR)', default: 'all' },
      ...budgets,
      'fail-fast': failFast,
      ...screening,
      'batch-api': { type: 'boolean', help: "send model calls in waves through the provider's Batch API (half the price, hours not seconds)", details: 'see [Batch mode](scale.md#batch-mode-provider-batch-api)' },
      'batch-files': {
        type: 'string',
        value: 'DIR',
        help: 'write each wave to DIR as NAME.requests.jsonl and wait for NAME.results.jsonl (vllm run-batch)',
        details: 'see [Offline batches](scale.md#offline-batches-vllm-run-batch)',
      },
      'batch-results': {
        type: 'string',
        multiple: true,
        value: 'FILE',
        help: 'a results file given by hand: its answers are taken before any request is sent',
        details: "implies `--batch-files` with the file's folder unless one is given",
      },
    },
  },
  export: {
    synopsis: 'export --format sft|dpo|aidsafe --out PATH [options]',
    title: 'write records as JSONL, Parquet or CSV for TRL and Hugging Face datasets, with a dataset card',
    summary: `Writes records as files TRL and Hugging Face datasets load as they are, with a dataset
card. --out decides the file type: .parquet writes Parquet, .csv CSV (aidsafe only),
anything else JSONL. With no --run-id, every record.`,
    flags: {
      format: { type: 'string', value: 'sft|dpo|aidsafe', help: 'the shape of the rows (required)', details: 'see [exports.md](exports.md)' },
      out: { type: 'string', value: 'PATH', help: 'the file to write: .parquet, .csv (aidsafe only) or JSONL (required)' },
      'run-id': { type: 'string', value: 'ID', help: "only this run's records", default: 'every record' },
      'min-score': { type: 'string', value: 'S', help: 'only records whose six grades are all at least S (1 to 5)' },
      'sft-shape': { type: 'string', value: 'prompt-completion|messages', help: 'sft rows as prompt + completion or as one messages list', default: 'prompt-completion' },
      reasoning: {
        type: 'string',
        value: 'think|reasoning_content|thinking',
        help: 'where the chain of thought goes',
        default: 'think',
        details: 'see [which model family keeps which](exports.md#reasoning-fields-and-chat-templates)',
      },
      system: { type: 'string', value: 'none|policies|FILE', help: "a system message first in sft and dpo prompts: none, the policies each sample used, or a file's text", default: 'none' },
      split: { type: 'string', value: 'NAME=SHARE,…', help: 'one file per split beside --out, e.g. train=0.9,test=0.1', details: 'named with the split (`data.train.jsonl` for `--out data.jsonl`)' },
      ...screening,
      'push-to-hub': { type: 'string', value: 'OWNER/NAME', help: 'then upload the files and the card to a Hub dataset repository (token in HF_TOKEN)', details: 'see [Hub push](exports.md#hub-push)' },
      private: { type: 'boolean', help: 'make a new Hub repository private (with --push-to-hub)' },
    },
  },
  runs: {
    synopsis: 'runs',
    title: 'list the runs in the data folder',
    flags: {},
  },
  report: {
    synopsis: 'report --run-id ID --out FILE.html',
    title: 'write a self-contained HTML report on a run (charts and every deliberation)',
    flags: {
      'run-id': { type: 'string', value: 'ID', help: 'the run (required; `aidsafe-mcp runs` lists them)' },
      out: { type: 'string', value: 'FILE.html', help: 'the report to write (required)' },
    },
  },
  eval: {
    synopsis: 'eval --target URL|ROLE [--model NAME] [--target … --model …] --suite LIST|--input FILE [options]',
    title: 'evaluate models on safety benchmarks, judged by the judge role (resumable)',
    summary: `Sends each prompt alone to each target, and the judge role rates the reply. Prints one
column per target with 95% intervals and the paper's Table 2 as reference. Running the
same command again resumes. Suites are read from AIDSAFE_SUITES_DIR.`,
    flags: {
      target: { type: 'string', multiple: true, value: 'URL|ROLE', help: 'an OpenAI-compatible server, or a configured role such as responder (required)' },
      model: { type: 'string', multiple: true, value: 'NAME', help: 'the model of the --target before it' },
      suite: { type: 'string', value: 'LIST', help: 'comma-separated: xstest, strongreject, harmbench, advbench, donotanswer' },
      input: { type: 'string', value: 'FILE', help: 'a CSV or JSONL prompt file instead of (or besides) suites' },
      column: { type: 'string', value: 'C', help: 'the prompt column of --input' },
      limit: { type: 'string', value: 'N', help: 'only the first N prompts of each suite' },
      concurrency: { type: 'string', value: 'N', help: 'samples in flight, 1 to 256', default: '8' },
      'eval-id': { type: 'string', value: 'ID', help: 'name the evaluation', default: 'derived from the targets, suites and options' },
      ...budgets,
      'fail-fast': failFast,
      out: { type: 'string', value: 'FILE.html', help: 'also write an HTML report' },
      json: { type: 'boolean', help: 'print the result as JSON instead of a table' },
    },
  },
  compare: {
    synopsis: 'compare --run A --run B [--out FILE.html] [--concurrency N]',
    title: 'compare two runs on the same prompts, with paired differences and 95% intervals',
    summary: `Grades ungraded samples first (resumably), then per score gives both means, the paired
difference A − B with a 95% bootstrap interval, and win/tie/loss counts, overall and per
category. The table goes to stderr, the JSON to stdout.`,
    flags: {
      run: { type: 'string', multiple: true, value: 'ID', help: 'a run to compare; give it twice (required)' },
      out: { type: 'string', value: 'FILE.html', help: 'also write an HTML report' },
      concurrency: { type: 'string', value: 'N', help: 'gradings in flight, 1 to 256', default: '8' },
    },
  },
  merge: {
    synopsis: 'merge --from DIR... --into DIR',
    title: "merge shards' data folders into one, so one export and one report cover the job",
    summary: `Copies records, runs and request cache files; what is already there is skipped, and the
shard runs of each job become one run under the id the job has without --shard. Stops
before writing anything when two folders disagree. Merging again adds nothing.`,
    positionals: true,
    flags: {
      from: { type: 'string', multiple: true, value: 'DIR...', help: 'data folders to merge; --from a b c takes several (required)' },
      into: { type: 'string', value: 'DIR', help: 'the data folder to merge into, made if missing (required)' },
    },
  },
  lint: {
    synopsis: 'lint --input FILE [--column C]... [--prompt-column P] [--out FILE.jsonl] [--policy ID]... [--examples N]',
    title: 'check the chains of thought of any CoT dataset with the thought linter',
    summary: `Checks the chains of thought of a CSV or JSONL dataset (an export of this program or
another CoT dataset) for process talk, refusals, invented clause ids, belief leaks and
list markers. Prints findings by kind with examples. Exits 0 when clean, 1 with findings,
2 when the input cannot be read.`,
    flags: {
      input: { type: 'string', value: 'FILE', help: 'the dataset, CSV or JSONL (required)', details: '`.jsonl`, `.ndjson` and `.json` are read as JSON lines' },
      column: {
        type: 'string',
        multiple: true,
        value: 'C',
        help: 'a column with the thoughts, or with text holding a <think> block',
        default: 'chosen and rejected, else the first known thought column',
        details:
          'a list of thoughts, text with a `<think>` block, plain reasoning text, or a message list. The known columns, in order: `refined_thoughts`, `thoughts`, `cot`, `chain_of_thought`, `reasoning`, `reasoning_content`, `thinking`, `think`, `rationale`, `completion`, `messages`, `response`, `output`, `answer`, `generation`',
      },
      'prompt-column': {
        type: 'string',
        value: 'P',
        help: 'the column with the request, for the belief-leak check',
        default: 'the first known prompt column',
        details: 'text, or a message list whose user turns are used. The known columns, in order: `prompt`, `question`, `goal`, `forbidden_prompt`, `Behavior`, `instruction`, `input`, `query`, `messages`',
      },
      out: {
        type: 'string',
        value: 'FILE.jsonl',
        help: 'also write one JSONL line per chain with findings',
        details: '`{row, id?, column, findings: [{kind, index, thought, why}]}` (`row` and `index` count from 0)',
      },
      policy: { type: 'string', multiple: true, value: 'ID', help: 'check clause ids against this policy only', default: 'every policy loaded, built-in and AIDSAFE_POLICIES_DIR' },
      examples: { type: 'string', value: 'N', help: 'examples printed per kind of finding, 0 to 100', default: '3' },
    },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/** Every environment variable the program reads, and the commands it matters to. */
export const ENVIRONMENT: readonly { name: string; help: string; commands: readonly CommandName[] }[] = (() => {
  const models: CommandName[] = ['serve', 'preview', 'run', 'eval', 'compare'];
  const data: CommandName[] = ['serve', 'preview', 'run', 'export', 'runs', 'report', 'eval', 'compare'];
  return [
    { name: 'OPENAI_BASE_URL', help: 'the OpenAI-compatible server of every role', commands: models },
    { name: 'OPENAI_API_KEY', help: 'its API key (never stored or logged)', commands: models },
    { name: 'AIDSAFE_MODEL', help: 'the model of every role', commands: models },
    { name: 'AIDSAFE_AGENT_MODELS', help: 'models of deliberation agents 1, 2, … (comma-separated)', commands: models },
    { name: 'AIDSAFE_CONFIG', help: 'a JSON or YAML file: roles, agents, prices, limits', commands: [...data, 'lint'] },
    { name: 'AIDSAFE_DATA_DIR', help: 'where records and runs are stored', commands: data },
    { name: 'AIDSAFE_POLICIES_DIR', help: 'folders of extra policies (:-separated)', commands: [...data, 'lint'] },
    { name: 'AIDSAFE_INPUT_DIRS', help: 'extra folders start_batch may read prompts from', commands: ['serve'] },
    { name: 'AIDSAFE_SUITES_DIR', help: 'the benchmark prompt files eval reads', commands: ['serve', 'eval'] },
    { name: 'AIDSAFE_LOG_LEVEL', help: 'debug, info, warning or error (logs go to stderr)', commands: [...data, 'merge'] },
    { name: 'AIDSAFE_HTTP_TOKEN', help: 'bearer token serve --http requires', commands: ['serve'] },
    { name: 'AIDSAFE_HTTP_ALLOWED_HOSTS', help: 'extra Host values serve --http accepts', commands: ['serve'] },
    { name: 'AIDSAFE_HTTP_ALLOWED_ORIGINS', help: 'extra Origin values serve --http accepts', commands: ['serve'] },
    { name: 'AIDSAFE_HTTP_MAX_SESSIONS', help: 'live HTTP sessions at most (default 64)', commands: ['serve'] },
    { name: 'AIDSAFE_HTTP_SESSION_IDLE_MINUTES', help: 'idle minutes before a session closes (default 10)', commands: ['serve'] },
    { name: 'AIDSAFE_HTTP_TRUST_ROOTS', help: '1: serve --http reads the roots a client declares', commands: ['serve'] },
    { name: 'AIDSAFE_EVAL_TARGETS', help: 'base URLs start_eval may name as targets, or none', commands: ['serve'] },
    { name: 'AIDSAFE_TOOLS', help: 'tool sets the MCP server offers: chat, batch, eval, or all (default)', commands: ['serve'] },
    { name: 'AIDSAFE_SHARD_COUNT', help: 'shards of a Kubernetes Indexed Job, for --shard auto', commands: ['run'] },
    { name: 'HF_TOKEN', help: 'Hub token for pushes, read when a push starts', commands: ['serve', 'export'] },
    { name: 'HF_ENDPOINT', help: 'Hub address (default https://huggingface.co)', commands: ['serve', 'export'] },
  ];
})();

const CONFIG_DOC = 'docs/configuration.md';

function environmentLines(command?: CommandName): string {
  const vars = ENVIRONMENT.filter((v) => command === undefined || v.commands.includes(command));
  if (vars.length === 0) return '';
  return `\n\nEnvironment (${CONFIG_DOC} describes each, and the AIDSAFE_CONFIG file):\n${vars.map((v) => twoColumns(v.name, v.help, 34)).join('\n')}`;
}

export const USAGE = `aidsafe-mcp ${VERSION} — AIDSAFE policy-embedded chain-of-thought data, as an MCP server

Usage: aidsafe-mcp COMMAND [options]    (no command: serve over stdio)

Commands:
${COMMAND_NAMES.map((name) => `  aidsafe-mcp ${COMMANDS[name].synopsis}\n      ${COMMANDS[name].title}`).join('\n')}
  aidsafe-mcp COMMAND --help
      that command's options
  aidsafe-mcp --version${environmentLines()}`;

/** One command's `--help`: its synopsis, what it does, one line per flag, and the variables it reads. */
export function commandUsage(command: CommandName): string {
  const spec: CommandSpec = COMMANDS[command];
  return `Usage: aidsafe-mcp ${spec.synopsis}\n\n${spec.summary ?? spec.title.charAt(0).toUpperCase() + spec.title.slice(1) + '.'}\n\nOptions:\n${flagLines(spec.flags)}${environmentLines(command)}`;
}

/** What an unknown command gets: the commands, not the whole help. */
export function unknownCommand(command: string): string {
  const near = closest(command, COMMAND_NAMES);
  return `unknown command "${command}"${near ? `; did you mean ${near}?` : ''}\nThe commands are ${COMMAND_NAMES.join(', ')}; \`aidsafe-mcp --help\` says what each does.`;
}

export function isHelpFlag(arg: string): boolean {
  return arg === '--help' || arg === '-h';
}
