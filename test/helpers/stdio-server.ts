import { existsSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from './fixtures.js';
import { serverJs } from './raw-stdio.js';
import { ScriptedModelServer } from './scripted-model-server.js';

/**
 * What a test of dist/server.js over stdio spawns it against: a scripted model server and a fresh
 * data folder, started before the calling file's tests (once dist/ is known to be built) and removed
 * after them. `env` is the server's environment, with the API key given (none: no key at all).
 */
export function stdioServerSetup(): { data: { path: string; remove: () => void }; model: ScriptedModelServer; env: (apiKey?: string) => NodeJS.ProcessEnv } {
  const data = tempDir();
  const model = new ScriptedModelServer();
  beforeAll(async () => {
    if (!existsSync(serverJs)) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does it)');
    await model.start();
  });
  afterAll(async () => {
    await model.close();
    data.remove();
  });
  return { data, model, env: (apiKey) => ({ OPENAI_BASE_URL: model.url, ...(apiKey === undefined ? {} : { OPENAI_API_KEY: apiKey }), AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: data.path }) };
}
