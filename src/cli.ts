#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { exportCommand, InputError, reportCommand, runCommand, runsCommand, UsageError } from './cli/commands.js';
import { log } from './log.js';
import { main as serve } from './server.js';
import { VERSION } from './version.js';

const USAGE = `aidsafe-mcp ${VERSION} — AIDSAFE policy-embedded chain-of-thought data, as an MCP server

Usage:
  aidsafe-mcp serve [--http [--host 127.0.0.1] [--port 3333]]
      Serve MCP over stdio (what Claude Desktop, VS Code and Cursor start), or over
      Streamable HTTP at /mcp; set AIDSAFE_HTTP_TOKEN to require a bearer token
      (required on any host but loopback).
  aidsafe-mcp run --input PATH [--column C] [--limit N] [--concurrency N] [--run-id ID]
                  [--grade] [--preference] [--shard I/N] [--agents N] [--max-rounds N]
                  [--policy ID]... [--max-samples N] [--max-tokens N] [--max-cost USD]
                  [--dedup [--dedup-threshold X]] [--decontaminate SETS|all|FILE]
      Generate a dataset from a CSV or JSONL prompt file. Running the same command again
      resumes the same run: finished samples are kept, failed and missing ones are run.
  aidsafe-mcp export --format sft|dpo|aidsafe --out PATH(.jsonl|.parquet|.csv) [--run-id ID]
                  [--min-score S] [--sft-shape prompt-completion|messages]
                  [--reasoning think|reasoning_content|thinking] [--system none|policies|FILE]
                  [--split train=0.9,validation=0.05,test=0.05] [--dedup] [--decontaminate SETS]
                  [--push-to-hub OWNER/NAME [--private]]
      Write records for TRL / Hugging Face datasets, with a dataset card (README.md) beside
      them (no run id: every record); with --push-to-hub, upload them (token in HF_TOKEN).
  aidsafe-mcp report --run-id ID --out FILE.html
      Write a self-contained HTML report on a run (charts and every deliberation).
  aidsafe-mcp runs
      List the runs in the data folder.

Configuration is read from the environment: OPENAI_BASE_URL, OPENAI_API_KEY, AIDSAFE_MODEL,
AIDSAFE_AGENT_MODELS, AIDSAFE_CONFIG, AIDSAFE_DATA_DIR, AIDSAFE_POLICIES_DIR, HF_TOKEN (see the README).`;

function serveOptions(argv: string[]): Parameters<typeof serve>[0] {
  const { values } = parseArgs({ args: argv, strict: true, options: { http: { type: 'boolean', default: false }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '3333' } } });
  if (!values.http) {
    if (argv.length > 0) throw new UsageError('--host and --port go with --http');
    return {};
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number from 0 to 65535 (got "${values.port}")`);
  return { http: { host: values.host ?? '127.0.0.1', port } };
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
    case undefined:
      await serve(serveOptions(rest));
      return -1; // keeps running until the client disconnects
    case 'run':
      return runCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'runs':
      return runsCommand(rest);
    case 'report':
      return reportCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(VERSION + '\n');
      return 0;
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || error instanceof InputError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`aidsafe-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
    if (!usage) log('debug', error instanceof Error ? (error.stack ?? '') : '');
    process.exitCode = usage ? 2 : 1;
  },
);
