import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/usage.js';
import { contextFor, connectClient, tempDir } from './helpers/fixtures.js';

const doc = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const tools = doc('docs/tools.md');
const configuration = doc('docs/configuration.md');
const data = tempDir();
afterAll(() => data.remove());

/** The tool reference (docs/tools.md) is checked against the tools' own schemas, so the two cannot drift. */
describe('tool reference in docs/tools.md', () => {
  it('documents every tool and every input field', async () => {
    const { client, close } = await connectClient(await contextFor('http://127.0.0.1:9/v1', data.path));
    const { tools: listed } = await client.listTools();
    await close();
    for (const tool of listed) {
      const start = tools.indexOf(`\n## \`${tool.name}\``);
      expect(start, `docs/tools.md has no section for ${tool.name}`).toBeGreaterThan(0);
      const end = tools.indexOf('\n## ', start + 1);
      const section = tools.slice(start, end < 0 ? undefined : end);
      for (const field of Object.keys(tool.inputSchema.properties ?? {})) {
        expect(section, `docs/tools.md section of ${tool.name} does not mention ${field}`).toContain(`\`${field}\``);
      }
    }
  });

  it('documents every prompt', async () => {
    const { client, close } = await connectClient(await contextFor('http://127.0.0.1:9/v1', data.path));
    const { prompts } = await client.listPrompts();
    await close();
    for (const prompt of prompts) {
      expect(tools).toContain(`| \`${prompt.name}\` |`);
      for (const arg of prompt.arguments ?? []) expect(tools).toContain(`\`${arg.name}\``);
    }
  });
});

describe('docs/configuration.md', () => {
  it('names every environment variable the code reads', () => {
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'AIDSAFE_MODEL', 'AIDSAFE_AGENT_MODELS', 'AIDSAFE_CONFIG', 'AIDSAFE_DATA_DIR', 'AIDSAFE_POLICIES_DIR', 'AIDSAFE_INPUT_DIRS', 'AIDSAFE_SUITES_DIR', 'AIDSAFE_HTTP_TOKEN', 'AIDSAFE_HTTP_ALLOWED_HOSTS', 'AIDSAFE_HTTP_ALLOWED_ORIGINS', 'AIDSAFE_HTTP_MAX_SESSIONS', 'AIDSAFE_HTTP_SESSION_IDLE_MINUTES', 'AIDSAFE_HTTP_TRUST_ROOTS', 'AIDSAFE_EVAL_TARGETS', 'AIDSAFE_TOOLS', 'AIDSAFE_LOG_LEVEL', 'HF_TOKEN', 'HF_ENDPOINT']) {
      expect(configuration).toContain(`\`${name}\``);
    }
  });
});

describe('README.md as the front door', () => {
  const readme = doc('README.md');
  it('stays short, and names every CLI command', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const command of Object.keys(COMMANDS)) expect(readme).toContain(`\`${command}\``);
  });
});
