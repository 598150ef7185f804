import { VERSION } from '../version.js';

/** Each command's synopsis and what it does: `aidsafe-mcp COMMAND --help` prints one, `--help` all. */
export const COMMAND_HELP = {
  serve: `aidsafe-mcp serve [--http [--host 127.0.0.1] [--port 3333]]
    Serve MCP over stdio (what Claude Desktop, VS Code and Cursor start), or over
    Streamable HTTP at /mcp; set AIDSAFE_HTTP_TOKEN to require a bearer token
    (required on any host but loopback). AIDSAFE_HTTP_MAX_SESSIONS (default 64) caps
    live HTTP sessions; AIDSAFE_HTTP_SESSION_IDLE_MINUTES (default 10) closes idle ones.`,
  run: `aidsafe-mcp run --input PATH [--column C] [--limit N] [--concurrency N] [--run-id ID]
                [--recipe aidsafe|baseline] [--grade] [--preference] [--shard I/N|auto] [--agents N] [--max-rounds N]
                [--belief-rounds N] [--min-margin M] [--policy ID]...
                [--max-samples N] [--max-tokens N] [--max-cost USD] [--fail-fast N]
                [--batch-api | --batch-files DIR [--batch-results FILE]...]
    Generate a dataset from a CSV or JSONL prompt file (--recipe baseline: one model,
    zero-shot, the paper's comparison). Running the same command again
    resumes the same run: finished samples are kept, failed and missing ones are run.
    --shard I/N takes the I-th of N shards of the rows (by a hash of the prompt); --shard
    auto reads I and N from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX plus
    AIDSAFE_SHARD_COUNT) or a Slurm job array (SLURM_ARRAY_TASK_ID, _MIN, _COUNT).
    --batch-api sends model calls in waves through the provider's Batch API (half the
    price, hours not seconds); --batch-files writes each wave to DIR as
    NAME.requests.jsonl and waits for NAME.results.jsonl (vllm run-batch);
    --batch-results reads a results file given by hand. Batch mode keeps 1,000
    samples in flight unless --concurrency says otherwise.
    Exits 0 when every sample succeeded, 3 when some failed, 1 when the run failed.`,
  export: `aidsafe-mcp export --format sft|dpo|aidsafe --out PATH [--run-id ID] [--min-score S]
    Write records as JSONL for TRL / Hugging Face datasets (no run id: every record).`,
  report: `aidsafe-mcp report --run-id ID --out FILE.html
    Write a self-contained HTML report on a run (charts and every deliberation).`,
  eval: `aidsafe-mcp eval --target URL|ROLE [--model NAME] [--target … --model …]
                 --suite xstest,strongreject,harmbench,advbench,donotanswer
                 [--input FILE [--column C]] [--limit N] [--concurrency N] [--out FILE.html]
                 [--json] [--eval-id ID] [--max-samples N] [--max-tokens N] [--max-cost USD]
    Evaluate models on safety benchmarks: each prompt is sent alone to each target, and
    the judge role rates the reply. Prints one column per target with 95% intervals and
    the paper's Table 2 as reference (--json: the same as JSON). Running the same command
    again resumes. Suites are read from AIDSAFE_SUITES_DIR.`,
  runs: `aidsafe-mcp runs
    List the runs in the data folder.`,
  compare: `aidsafe-mcp compare --run A --run B [--out FILE.html] [--concurrency N]
    Compare two runs on the same prompts: grades ungraded samples first (resumably),
    then per score both means, the paired difference A − B with a 95% bootstrap
    interval, and win/tie/loss counts, overall and per category. The table goes to
    stderr, the JSON to stdout; --out writes an HTML report.`,
  merge: `aidsafe-mcp merge --from DIR... --into DIR
    Merge data folders (one per shard of a job) into one: records, runs and request
    cache files are copied, what is already there is skipped, and the shard runs of each
    job become one run under the id the job has without --shard, so one export and one
    report cover it. Prints what was copied and skipped, and the totals; stops before
    writing anything when two folders disagree. Merging again adds nothing.`,
  lint: `aidsafe-mcp lint --input FILE [--column C]... [--prompt-column P] [--out FILE.jsonl]
                 [--policy ID]... [--examples N]
    Check the chains of thought of a CSV or JSONL dataset (an export of this program or
    another CoT dataset) with the thought linter: process talk, refusals, invented clause
    ids, belief leaks, list markers. --column names the thoughts or the text with a
    <think> block (default: chosen/rejected, completion, messages, refined_thoughts, cot…);
    --prompt-column the request, for the belief-leak check. Prints findings by kind with
    examples; --out writes the findings of each row as JSONL. Exits 0 when clean, 1 with
    findings, 2 when the input cannot be read.`,
} as const;

export type CommandName = keyof typeof COMMAND_HELP;

const CONFIG = `Configuration is read from the environment: OPENAI_BASE_URL, OPENAI_API_KEY, AIDSAFE_MODEL,
AIDSAFE_AGENT_MODELS, AIDSAFE_CONFIG, AIDSAFE_DATA_DIR, AIDSAFE_POLICIES_DIR, AIDSAFE_SUITES_DIR (see the README).`;

export const USAGE = `aidsafe-mcp ${VERSION} — AIDSAFE policy-embedded chain-of-thought data, as an MCP server

Usage:
${Object.values(COMMAND_HELP)
  .map((text) => '  ' + text.replace(/\n/g, '\n  '))
  .join('\n')}
  aidsafe-mcp --version

${CONFIG}`;

export function commandUsage(command: CommandName): string {
  return `Usage: ${COMMAND_HELP[command]}\n\n${CONFIG}`;
}

export function isHelpFlag(arg: string): boolean {
  return arg === '--help' || arg === '-h';
}
