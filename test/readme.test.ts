import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { contextFor, connectClient, tempDir } from './helpers/fixtures.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const data = tempDir();
afterAll(() => data.remove());

/** The README's tool reference is checked against the tools' own schemas, so the two cannot drift. */
describe('README tool reference', () => {
  it('documents every tool and every input field', async () => {
    const { client, close } = await connectClient(await contextFor('http://127.0.0.1:9/v1', data.path));
    const { tools } = await client.listTools();
    await close();
    for (const tool of tools) {
      const start = readme.indexOf(`### \`${tool.name}\``);
      expect(start, `README has no section for ${tool.name}`).toBeGreaterThan(0);
      const end = readme.indexOf('\n### ', start + 1);
      const section = readme.slice(start, end < 0 ? undefined : end);
      for (const field of Object.keys(tool.inputSchema.properties ?? {})) {
        expect(section, `README section of ${tool.name} does not mention ${field}`).toContain(`\`${field}\``);
      }
    }
  });

  it('documents every prompt', async () => {
    const { client, close } = await connectClient(await contextFor('http://127.0.0.1:9/v1', data.path));
    const { prompts } = await client.listPrompts();
    await close();
    for (const prompt of prompts) {
      expect(readme).toContain(`| \`${prompt.name}\` |`);
      for (const arg of prompt.arguments ?? []) expect(readme).toContain(`\`${arg.name}\``);
    }
  });

  it('names every environment variable the code reads', () => {
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'AIDSAFE_MODEL', 'AIDSAFE_AGENT_MODELS', 'AIDSAFE_CONFIG', 'AIDSAFE_DATA_DIR', 'AIDSAFE_POLICIES_DIR', 'AIDSAFE_INPUT_DIRS', 'AIDSAFE_SUITES_DIR', 'AIDSAFE_HTTP_TOKEN', 'AIDSAFE_HTTP_ALLOWED_HOSTS', 'AIDSAFE_HTTP_ALLOWED_ORIGINS', 'AIDSAFE_HTTP_MAX_SESSIONS', 'AIDSAFE_HTTP_SESSION_IDLE_MINUTES', 'AIDSAFE_HTTP_TRUST_ROOTS', 'AIDSAFE_EVAL_TARGETS', 'AIDSAFE_LOG_LEVEL', 'HF_TOKEN', 'HF_ENDPOINT']) {
      expect(readme).toContain(`\`${name}\``);
    }
  });
});
