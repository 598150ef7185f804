import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { tempDir } from './helpers/fixtures.js';
import { cliJs } from './helpers/cli.js';
import { ScriptedModelServer } from './helpers/scripted-model-server.js';

const run = promisify(execFile);
const deploy = (path: string) => new URL(`../deploy/${path}`, import.meta.url);
const prompts = Array.from({ length: 12 }, (_, i) => `What is a safe way to store cleaning product number ${i}?`);

interface Container {
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts: { name: string; mountPath: string }[];
}
interface Job {
  kind: string;
  metadata: { name: string };
  spec: { completionMode?: string; completions?: number; parallelism?: number; template: { spec: { containers: Container[]; volumes: { name: string; persistentVolumeClaim: { claimName: string } }[] } } };
}

const yamlDocs = (path: string) => parseAllDocuments(readFileSync(deploy(path), 'utf8')).map((d) => d.toJS() as Job);
const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { jobs: { done: number; failed: number; total: number; missing_shards: string[] }[] };

describe('deploy/', () => {
  const server = new ScriptedModelServer();
  const root = tempDir();
  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.close();
    root.remove();
  });

  it('the Kubernetes Indexed Job sets the shard count to its completions, and its commands run a sharded job that merges whole', async () => {
    const [claim, shards] = yamlDocs('kubernetes/shards-job.yaml');
    const [merge] = yamlDocs('kubernetes/merge-job.yaml');
    expect(claim?.kind).toBe('PersistentVolumeClaim');
    expect(shards?.kind).toBe('Job');
    const spec = shards!.spec;
    expect(spec.completionMode).toBe('Indexed');
    expect(spec.parallelism).toBeLessThanOrEqual(spec.completions!);
    const [container] = spec.template.spec.containers;
    const env = Object.fromEntries(container!.env!.map((e) => [e.name, e]));
    expect(env.AIDSAFE_SHARD_COUNT?.value).toBe(String(spec.completions));
    expect(env.SHARD_INDEX?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    expect(env.AIDSAFE_DATA_DIR?.value).toBe('/data/shards/$(SHARD_INDEX)');
    expect(container!.args?.slice(0, 1)).toEqual(['run']);
    expect(container!.args?.join(' ')).toContain('--shard auto');
    for (const job of [shards!, merge!]) {
      expect(job.spec.template.spec.volumes[0]?.persistentVolumeClaim.claimName).toBe(claim!.metadata.name);
      expect(job.spec.template.spec.containers[0]?.volumeMounts).toEqual([{ name: job.spec.template.spec.volumes[0]!.name, mountPath: '/data' }]);
      expect(job.spec.template.spec.containers[0]?.image).toBe(container!.image);
    }

    // Each pod's command as Kubernetes would start it (the image's entrypoint is node /app/dist/cli.js), /data a temp folder.
    const data = join(root.path, 'k8s');
    mkdirSync(join(data, 'inputs'), { recursive: true });
    writeFileSync(join(data, 'inputs', 'prompts.csv'), 'prompt\n' + prompts.join('\n') + '\n');
    const local = (text: string) => text.replaceAll('/data', data).replaceAll('node /app/dist/cli.js', `"${process.execPath}" "${cliJs}"`);
    for (let index = 0; index < spec.completions!; index++) {
      const podEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, JOB_COMPLETION_INDEX: String(index), SHARD_INDEX: String(index) };
      for (const e of container!.env!) if (e.value !== undefined) podEnv[e.name] = local(e.value.replace('$(SHARD_INDEX)', String(index)));
      Object.assign(podEnv, { OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model' });
      const { stdout } = await run(process.execPath, [cliJs, ...container!.args!.map(local)], { env: podEnv });
      expect(JSON.parse(stdout)).toMatchObject({ status: 'done', failed: 0 });
    }
    const mergeCommand = merge!.spec.template.spec.containers[0]!.command!;
    expect(mergeCommand.slice(0, 2)).toEqual(['sh', '-c']);
    const merged = await run('sh', ['-c', local(mergeCommand[2]!)], { env: { PATH: process.env.PATH } });
    expect(json(merged.stdout).jobs).toEqual([expect.objectContaining({ done: 12, failed: 0, total: 12, missing_shards: [] })]);
  });

  it('the Slurm array script, run once per task id with the array variables set, gives shards that its merge script makes whole', async () => {
    const script = readFileSync(deploy('slurm/aidsafe-array.sbatch'), 'utf8');
    const [, min, max] = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(script)!.map(Number);
    const bin = join(root.path, 'bin');
    mkdirSync(bin);
    symlinkSync(cliJs, join(bin, 'aidsafe-mcp'));
    const input = join(root.path, 'prompts.csv');
    writeFileSync(input, 'prompt\n' + prompts.join('\n') + '\n');
    const shared = join(root.path, 'slurm');
    const env = { PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`, AIDSAFE_INPUT: input, AIDSAFE_SHARED_DIR: shared, OPENAI_BASE_URL: server.url, AIDSAFE_MODEL: 'scripted-model' };
    let done = 0;
    for (let task = min!; task <= max!; task++) {
      const array = { SLURM_ARRAY_TASK_ID: String(task), SLURM_ARRAY_TASK_MIN: String(min), SLURM_ARRAY_TASK_COUNT: String(max! - min! + 1) };
      const { stdout } = await run('bash', [deploy('slurm/aidsafe-array.sbatch').pathname, '--concurrency', '4'], { env: { ...env, ...array } });
      done += (JSON.parse(stdout) as { done: number }).done;
    }
    expect(done).toBe(12);
    const merged = await run('bash', [deploy('slurm/aidsafe-merge.sbatch').pathname], { env });
    expect(json(merged.stdout).jobs).toEqual([expect.objectContaining({ done: 12, failed: 0, total: 12, missing_shards: [] })]);
    await expect(run('bash', [deploy('slurm/aidsafe-array.sbatch').pathname], { env: { PATH: env.PATH } })).rejects.toThrow(/AIDSAFE_INPUT: set AIDSAFE_INPUT to the prompt file/);
  });
});
