import { fileURLToPath } from 'node:url';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { log } from './log.js';

/**
 * Why a client's roots are not used over HTTP. A root is the client's statement about its own machine:
 * over stdio client and server share a machine and a user, over HTTP they need not, and a remote
 * client declaring file:/// would make every file the server's user can read an allowed input.
 */
export const HTTP_ROOTS_IGNORED = 'over HTTP the roots a client declares are not used as folders of this server unless it is started with AIDSAFE_HTTP_TRUST_ROOTS=1';

/**
 * The local folders the client declared as its roots (file:// URIs only), asked afresh on each use so
 * a change on the client's side needs no notification handling. A client without the roots
 * capability, or one that does not answer, declares none.
 */
export async function clientRootDirs(server: Server): Promise<string[]> {
  if (!server.getClientCapabilities()?.roots) return [];
  let uris: string[];
  try {
    uris = (await server.listRoots(undefined, { timeout: 10_000 })).roots.map((root) => root.uri);
  } catch (error) {
    log('warning', 'the client did not list its roots', { error: String(error) });
    return [];
  }
  return uris.flatMap((uri) => {
    if (!uri.startsWith('file:')) return [];
    try {
      return [fileURLToPath(uri)];
    } catch {
      return []; // a file URI naming another host
    }
  });
}
