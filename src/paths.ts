import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The data folder. A client starts the server in a folder nobody chose, so the default is a
 * per-user location, never the working directory.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.AIDSAFE_DATA_DIR) return env.AIDSAFE_DATA_DIR;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'aidsafe-mcp');
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'aidsafe-mcp');
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'aidsafe-mcp');
}

/** The built-in policies ship next to dist/ and src/ alike. */
export const builtinPoliciesDir = new URL('../policies/', import.meta.url);
