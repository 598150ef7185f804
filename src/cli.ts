#!/usr/bin/env node
import { log } from './log.js';
import { main as serve } from './server.js';
import { VERSION } from './version.js';

const USAGE = `aidsafe-mcp ${VERSION} — AIDSAFE policy-embedded chain-of-thought data, as an MCP server

Usage:
  aidsafe-mcp serve        Serve MCP over stdio (what Claude Desktop, VS Code and Cursor start)
  aidsafe-mcp --version    Print the version
  aidsafe-mcp --help       Print this help

Configuration is read from the environment: OPENAI_BASE_URL, OPENAI_API_KEY, AIDSAFE_MODEL,
AIDSAFE_AGENT_MODELS, AIDSAFE_CONFIG, AIDSAFE_DATA_DIR, AIDSAFE_POLICIES_DIR (see the README).`;

async function run(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'serve':
    case undefined:
      await serve();
      return -1; // keeps running until the client disconnects
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
    log('error', error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
