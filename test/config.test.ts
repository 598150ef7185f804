import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, endpointFor, loadConfig } from '../src/config.js';
import { defaultDataDir } from '../src/paths.js';
import { redact, registerSecret } from '../src/log.js';
import { tempDir } from './helpers/fixtures.js';

const dir = tempDir();
afterAll(() => dir.remove());

describe('config', () => {
  it('uses AIDSAFE_MODEL for every role and AIDSAFE_AGENT_MODELS per agent, cycling', () => {
    const config = loadConfig({ AIDSAFE_MODEL: 'base', AIDSAFE_AGENT_MODELS: 'a,b', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect(endpointFor(config, 'refiner').model).toBe('base');
    expect(endpointFor(config, 'refiner').baseURL).toBe('http://127.0.0.1:9/v1');
    expect([0, 1, 2].map((i) => endpointFor(config, 'deliberator', i).model)).toEqual(['a', 'b', 'a']);
  });

  it('lets a config file set model, endpoint and key variable per role and per agent', () => {
    const path = join(dir.path, 'config.json');
    writeFileSync(
      path,
      JSON.stringify({
        default: { model: 'm-default' },
        roles: { refiner: { model: 'm-refiner', base_url: 'http://127.0.0.1:8001/v1', api_key_env: 'REFINER_KEY' } },
        agents: [{ model: 'agent-1' }, { model: 'agent-2', base_url: 'http://127.0.0.1:8002/v1' }],
      }),
    );
    const config = loadConfig({ AIDSAFE_CONFIG: path, AIDSAFE_MODEL: 'ignored', OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1' });
    expect(endpointFor(config, 'intents')).toEqual({ model: 'm-default', baseURL: 'http://127.0.0.1:8000/v1', apiKeyEnv: 'OPENAI_API_KEY', temperature: undefined });
    expect(endpointFor(config, 'refiner')).toMatchObject({ model: 'm-refiner', baseURL: 'http://127.0.0.1:8001/v1', apiKeyEnv: 'REFINER_KEY' });
    expect(endpointFor(config, 'deliberator', 1)).toMatchObject({ model: 'agent-2', baseURL: 'http://127.0.0.1:8002/v1' });
  });

  it('reads YAML config files too', () => {
    const path = join(dir.path, 'config.yaml');
    writeFileSync(path, 'default:\n  model: from-yaml\nmax_retries: 2\n');
    const config = loadConfig({ AIDSAFE_CONFIG: path });
    expect(endpointFor(config, 'grader').model).toBe('from-yaml');
    expect(config.maxRetries).toBe(2);
  });

  it('names the file and the field of an invalid config', () => {
    const path = join(dir.path, 'bad.json');
    writeFileSync(path, JSON.stringify({ roles: { refiner: { api_key: 'sk-secret' } }, agents: [{ model: '' }] }));
    expect(() => loadConfig({ AIDSAFE_CONFIG: path })).toThrow(ConfigError);
    expect(() => loadConfig({ AIDSAFE_CONFIG: path })).toThrow(/bad\.json is invalid: roles\.refiner: Unrecognized key: "api_key"/);
    expect(() => loadConfig({ AIDSAFE_CONFIG: join(dir.path, 'missing.json') })).toThrow(/cannot read/);
  });

  it('defaults the data folder to a per-user location, not the working directory', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/x/data' }, 'linux')).toBe('/x/data/aidsafe-mcp');
    expect(defaultDataDir({ AIDSAFE_DATA_DIR: '/d' }, 'linux')).toBe('/d');
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/aidsafe-mcp$/);
  });

  it('masks registered keys and key-shaped strings in log text', () => {
    registerSecret('local-secret-value');
    expect(redact('key=local-secret-value and sk-abcdefghijklmnop and Bearer abc.def.ghi.jkl')).toBe('key=*** and *** and ***');
  });
});
