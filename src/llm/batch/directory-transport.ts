import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchFile, BatchPoll, BatchTransport } from './transport.js';

/**
 * Offline batches through a folder: each file is written as `<name>.requests.jsonl`, and its results
 * are read from `<name>.results.jsonl` once that file has a line for every request (so a runner may
 * write it in place or rename it into place). `vllm run-batch -i X.requests.jsonl -o X.results.jsonl`
 * is such a runner. A cancelled file is renamed `<name>.cancelled.jsonl`.
 */
export class DirectoryTransport implements BatchTransport {
  readonly kind = 'files';
  private readonly expected = new Map<string, number>();

  constructor(readonly dir: string) {}

  requestsPath(name: string): string {
    return join(this.dir, `${name}.requests.jsonl`);
  }

  resultsPath(name: string): string {
    return join(this.dir, `${name}.results.jsonl`);
  }

  async submit(file: BatchFile): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const path = this.requestsPath(file.name);
    // Written under another name first, so a runner watching the folder never sees half a file.
    await writeFile(`${path}.partial`, file.content);
    await rename(`${path}.partial`, path);
    this.expected.set(file.name, file.requests);
    return file.name;
  }

  async find(name: string): Promise<string | undefined> {
    return (await exists(this.requestsPath(name))) ? name : undefined;
  }

  async poll(id: string): Promise<BatchPoll> {
    const text = await readFile(this.resultsPath(id), 'utf8').catch(() => undefined);
    if (text === undefined) return { status: 'waiting_for_results', done: false };
    const complete = completeLines(text).length;
    const expected = await this.expectedLines(id);
    return complete >= expected ? { status: 'completed', done: true } : { status: `results ${complete}/${expected}`, done: false };
  }

  async results(id: string): Promise<string[]> {
    return completeLines(await readFile(this.resultsPath(id), 'utf8'));
  }

  async cancel(id: string): Promise<void> {
    await rename(this.requestsPath(id), join(this.dir, `${id}.cancelled.jsonl`)).catch(() => undefined);
  }

  private async expectedLines(name: string): Promise<number> {
    let n = this.expected.get(name);
    if (n === undefined) {
      n = completeLines(await readFile(this.requestsPath(name), 'utf8').catch(() => '')).length;
      this.expected.set(name, n);
    }
    return n;
  }
}

/** Lines that end in a newline, or a last line that parses: a line still being written is not counted. */
function completeLines(text: string): string[] {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const complete = lines.filter((l) => l.trim());
  if (last.trim()) {
    try {
      JSON.parse(last);
      complete.push(last);
    } catch {
      // still being written
    }
  }
  return complete;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
