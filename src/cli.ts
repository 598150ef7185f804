#!/usr/bin/env node
import { parseFlags } from './cli/options.js';
import { commandUsage, COMMANDS, isHelpFlag, unknownCommand, USAGE, type CommandName } from './cli/usage.js';
import { InputError, UsageError } from './errors.js';
import { log } from './log.js';
import type { main as serve } from './server.js';
import { VERSION } from './version.js';

// Each command loads its own code when it runs: `serve` (what an MCP client starts) answers sooner
// without the run, export, report, eval and compare code.

function serveOptions(argv: string[]): Parameters<typeof serve>[0] {
  const { values } = parseFlags('serve', COMMANDS.serve, argv);
  if (!values.http) {
    if (argv.length > 0) throw new UsageError('--host and --port go with --http');
    return {};
  }
  const port = Number(values.port ?? COMMANDS.serve.flags.port.default);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be a port number from 0 to 65535 (got "${values.port}")`);
  return { http: { host: values.host ?? COMMANDS.serve.flags.host.default, port } };
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && Object.hasOwn(COMMANDS, command) && rest.some(isHelpFlag)) {
    process.stdout.write(commandUsage(command as CommandName) + '\n');
    return 0;
  }
  // A reader that stops early (`aidsafe-mcp runs | head`) closes the pipe: the output is no longer
  // wanted, so the command ends quietly, as Unix tools do, instead of dying on an unhandled EPIPE.
  if (command !== 'serve' && command !== undefined) {
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(0);
    });
  }
  switch (command) {
    case 'serve':
    case undefined: {
      const options = serveOptions(rest);
      await (await import('./server.js')).main(options);
      return -1; // keeps running until the client disconnects
    }
    case 'run':
      return (await import('./cli/commands.js')).runCommand(rest);
    case 'export':
      return (await import('./cli/commands.js')).exportCommand(rest);
    case 'runs':
      return (await import('./cli/commands.js')).runsCommand(rest);
    case 'report':
      return (await import('./cli/commands.js')).reportCommand(rest);
    case 'eval':
      return (await import('./cli/eval-command.js')).evalCommand(rest);
    case 'compare':
      return (await import('./cli/compare-command.js')).compareCommand(rest);
    case 'merge':
      return (await import('./cli/merge-command.js')).mergeCommand(rest);
    case 'lint':
      return (await import('./cli/lint-command.js')).lintCommand(rest);
    case 'preview':
      return (await import('./cli/preview-command.js')).previewCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(VERSION + '\n');
      return 0;
    case '--help':
    case '-h':
    case 'help':
      if (rest[0] !== undefined && !Object.hasOwn(COMMANDS, rest[0])) {
        process.stderr.write(`aidsafe-mcp: ${unknownCommand(rest[0])}\n`);
        return 2;
      }
      process.stdout.write((rest[0] === undefined ? USAGE : commandUsage(rest[0] as CommandName)) + '\n');
      return 0;
    default:
      process.stderr.write(`aidsafe-mcp: ${unknownCommand(command)}\n`);
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
