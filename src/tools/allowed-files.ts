import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { clientRootDirs } from '../client-roots.js';
import type { AppContext } from '../context.js';
import type { OpenedFile } from '../inputs/opened-file.js';
import { openInputFile } from '../paths.js';
import { InputError } from './tool-kit.js';

/**
 * The folders a client may have files read from: the data folder's inputs/, AIDSAFE_INPUT_DIRS and
 * the roots the client declared (unless this connection ignores them: HTTP by default). Never the
 * working folder: a client starts the server in a folder nobody chose (often / or a home folder), and
 * every file there would become readable.
 */
export async function allowedInputDirs(ctx: AppContext, server: McpServer): Promise<string[]> {
  const roots = ctx.rootsIgnored ? [] : await clientRootDirs(server.server);
  return [join(ctx.config.dataDir, 'inputs'), ...ctx.config.inputDirs, ...roots];
}

const REFUSALS = {
  outside: 'is outside the allowed folders',
  missing: 'does not exist',
  system: 'is under /proc, /sys or /dev, which are never read',
  not_a_file: 'is not a regular file',
} as const;

/**
 * A file a client names (a prompt file, a benchmark set, a system prompt), opened once and checked
 * through its descriptor to be a regular file inside the allowed folders (see openInputFile); read it
 * only through what this returns, and close it. Otherwise an error naming the field, never the file's
 * content. A relative path names a file in the data folder's inputs/.
 */
export async function openAllowedFile(ctx: AppContext, server: McpServer, field: string, path: string): Promise<OpenedFile> {
  const allowed = await allowedInputDirs(ctx, server);
  const requested = isAbsolute(path) ? path : join(ctx.config.dataDir, 'inputs', path);
  const opened = await openInputFile(requested, allowed);
  // On a fresh data folder inputs/ is not there yet, so a relative path inside it cannot resolve: it does not exist.
  const inputs = join(ctx.config.dataDir, 'inputs');
  const within = relative(inputs, requested);
  if (!opened.ok && opened.why === 'outside' && !isAbsolute(path) && !within.startsWith('..' + sep) && within !== '..' && !existsSync(inputs)) {
    throw new InputError(`${field}: "${path}" does not exist: ${inputs} is not there yet; create it and put the file in it (or give an absolute path inside the allowed folders: ${allowed.join(', ')})`);
  }
  if (!opened.ok) {
    const more = ctx.rootsIgnored ? `add more with AIDSAFE_INPUT_DIRS on the server; ${ctx.rootsIgnored}` : 'add more with AIDSAFE_INPUT_DIRS, or declare the folder as a root in the client';
    throw new InputError(`${field}: "${path}" ${REFUSALS[opened.why]}; allowed folders: ${allowed.join(', ')} (${more})`);
  }
  return opened.file;
}
