import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { tempDir } from './helpers/fixtures.js';
import { unzip } from './helpers/unzip.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const pkg = readJson('package.json');
const manifest = readJson('manifest.json');
const serverJson = readJson('server.json');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('Claude Desktop bundle manifest (manifest.json)', () => {
  it('is valid against the MCPB manifest schema it declares (v0.3, vendored in test/vendor)', () => {
    const ajv = new Ajv({ allErrors: true });
    ajv.addFormat('uri', (s: string) => URL.canParse(s));
    ajv.addFormat('email', /^[^@\s]+@[^@\s]+$/);
    const validate = ajv.compile(readJson('test/vendor/mcpb-manifest-v0.3.schema.json'));
    expect(manifest.manifest_version).toBe('0.3');
    expect(validate(manifest), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('asks for the API key as a sensitive field, the base URL, the model and the data folder, and passes each on', () => {
    expect(manifest.name).toBe(pkg.name);
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.user_config.api_key).toMatchObject({ type: 'string', sensitive: true });
    expect(manifest.user_config.data_dir.type).toBe('directory');
    const env = manifest.server.mcp_config.env as Record<string, string>;
    expect(env).toEqual({ OPENAI_API_KEY: '${user_config.api_key}', OPENAI_BASE_URL: '${user_config.base_url}', AIDSAFE_MODEL: '${user_config.model}', AIDSAFE_DATA_DIR: '${user_config.data_dir}' });
    for (const name of Object.keys(env)) expect(readme).toContain(`\`${name}\``);
    expect(manifest.server.mcp_config.args).toEqual([`\${__dirname}/${manifest.server.entry_point}`]);
    expect(pkg.files).toContain(manifest.server.entry_point.split('/')[0]);
  });
});

describe('MCP Registry entry (server.json)', () => {
  it('names the npm package, its version and the mcpName of package.json', () => {
    expect(serverJson.$schema).toMatch(/^https:\/\/static\.modelcontextprotocol\.io\/schemas\/[\d-]+\/server\.schema\.json$/);
    expect(serverJson.name).toBe(pkg.mcpName);
    expect(serverJson.name).toMatch(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/);
    expect(serverJson.description.length).toBeLessThanOrEqual(100);
    expect(serverJson.version).toBe(pkg.version);
    expect(serverJson.repository.url).toBe(pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, ''));
    const [npmPackage] = serverJson.packages;
    expect(npmPackage).toMatchObject({ registryType: 'npm', identifier: pkg.name, version: pkg.version, transport: { type: 'stdio' } });
    for (const variable of npmPackage.environmentVariables) expect(readme).toContain(`\`${variable.name}\``);
    expect(npmPackage.environmentVariables.find((v: { name: string }) => v.name === 'OPENAI_API_KEY').isSecret).toBe(true);
  });
});

// No container engine runs in CI, so the image is not built here; its instructions are checked instead.
describe('Dockerfile', () => {
  // Built with the repository root as context: docker build -f deploy/Dockerfile .
  const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
  it('copies only files that exist, runs as a non-root user, and serves stdio unless given other arguments', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter(Boolean);
    for (const [, from] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of from!.split(' ')) {
        expect(existsSync(join(root, source)), `COPY ${source}`).toBe(true);
        expect(ignored, `${source} is copied but ignored`).not.toContain(source);
      }
    }
    const stages = dockerfile.split(/^FROM /m);
    expect(stages.at(-1)).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/dist\/cli\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["serve"\]$/m);
    expect(pkg.bin['aidsafe-mcp']).toBe('dist/cli.js');
  });

  it('carries every folder the server reads at run time', () => {
    // eval and --decontaminate read benchmarks/, every tool reads policies/, the views read views/.
    for (const folder of ['benchmarks', 'policies', 'views']) expect(dockerfile).toMatch(new RegExp(`^COPY ${folder} \\./${folder}$`, 'm'));
  });
});

describe('npm pack from a clean checkout', () => {
  it('builds dist/ in prepare, and the packed bin runs with --version', () => {
    const work = tempDir('aidsafe-pack-');
    try {
      // The sources as a fresh clone has them (no dist/), with this checkout's dependencies.
      const checkout = join(work.path, 'checkout');
      const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const file of files) {
        if (!existsSync(join(root, file))) continue; // deleted but not yet committed
        mkdirSync(dirname(join(checkout, file)), { recursive: true });
        cpSync(join(root, file), join(checkout, file));
      }
      expect(existsSync(join(checkout, 'dist'))).toBe(false);
      symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
      const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', work.path, '--loglevel=error'], { cwd: checkout, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
      const paths = packed[0]!.files.map((f) => f.path);
      expect(paths).toEqual(expect.arrayContaining(['dist/cli.js', 'dist/server.js', 'policies/physical_harm.md', 'server.json', 'package.json']));
      expect(paths.some((p) => p.startsWith('src/') || p.startsWith('test/'))).toBe(false);

      // Installed as npm would: the package under node_modules, its dependencies beside it (here the
      // checkout's own, so no network is needed), the bin from package.json.
      const project = join(work.path, 'project');
      const installed = join(project, 'node_modules', pkg.name);
      mkdirSync(installed, { recursive: true });
      execFileSync('tar', ['-xzf', join(work.path, packed[0]!.filename), '-C', installed, '--strip-components=1']);
      symlinkSync(join(root, 'node_modules'), join(work.path, 'node_modules'), 'dir');
      const bin = join(installed, (JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['aidsafe-mcp']!);
      expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
      expect(statSync(bin).mode & 0o111).not.toBe(0);
      expect(execFileSync(bin, ['--version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).trim()).toBe(pkg.version);
    } finally {
      work.remove();
    }
  }, 240_000);
});


describe('npm run bundle', () => {
  it('writes an .mcpb whose server starts from the unpacked bundle and lists its tools', async () => {
    const work = tempDir('aidsafe-bundle-');
    try {
      const out = join(work.path, 'aidsafe.mcpb');
      execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), '--out', out], { cwd: root, stdio: 'pipe' });
      const entries = unzip(readFileSync(out));
      expect(JSON.parse(entries.get('manifest.json')!.data.toString('utf8'))).toEqual(manifest);
      expect([...entries.keys()].some((name) => name.startsWith('node_modules/typescript/'))).toBe(false);

      const unpacked = join(work.path, 'unpacked');
      for (const [name, { data, mode }] of entries) {
        mkdirSync(dirname(join(unpacked, name)), { recursive: true });
        writeFileSync(join(unpacked, name), data);
        if (mode) chmodSync(join(unpacked, name), mode & 0o777);
      }
      expect(readdirSync(unpacked)).toEqual(expect.arrayContaining(['manifest.json', 'dist', 'node_modules', 'policies', 'views']));
      const args = (manifest.server.mcp_config.args as string[]).map((a) => a.replace('${__dirname}', unpacked));
      const client = new Client({ name: 'bundle-test', version: '1' });
      await client.connect(new StdioClientTransport({ command: process.execPath, args, env: { PATH: process.env.PATH ?? '', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', AIDSAFE_DATA_DIR: join(work.path, 'data') }, stderr: 'pipe' }));
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('deliberate_safety_cot');
      await client.close();
    } finally {
      work.remove();
    }
  }, 240_000);
});
