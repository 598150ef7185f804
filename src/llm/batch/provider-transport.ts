import OpenAI, { toFile } from 'openai';
import type { ResolvedEndpoint } from '../../config.js';
import { registerSecret } from '../../log.js';
import { boundedFetch } from '../bounded-fetch.js';
import { CHAT_COMPLETIONS } from './batch-line.js';
import { TERMINAL_STATUSES, type BatchFile, type BatchPoll, type BatchTransport } from './transport.js';

/** Batches pages looked through for a batch submitted just before a crash; newer batches come first. */
const FIND_PAGES = 5;

/** The OpenAI Files and Batch APIs (or any server that offers them): upload, create with a 24h window, poll, download. */
export class ProviderTransport implements BatchTransport {
  readonly kind = 'provider';
  private readonly client: OpenAI;
  /** For batch output files, which may be hundreds of MB: no size cap, and the deadline is for the next byte. */
  private readonly downloads: OpenAI;

  constructor(endpoint: ResolvedEndpoint, timeoutMs: number, env: NodeJS.ProcessEnv = process.env) {
    const apiKey = env[endpoint.apiKeyEnv];
    registerSecret(apiKey);
    // The client's own retries cover a dropped poll or upload; a batch's fate is decided by its status.
    const options = { apiKey: apiKey || 'unused', baseURL: endpoint.baseURL ?? 'https://api.openai.com/v1', maxRetries: 4, timeout: timeoutMs };
    // The client's own timeout ends at the headers: a body that stalls after them would hold a poll for good.
    this.client = new OpenAI({ ...options, fetch: boundedFetch({ timeoutMs }) });
    this.downloads = new OpenAI({ ...options, fetch: boundedFetch({ timeoutMs, idle: true }) });
  }

  async submit(file: BatchFile): Promise<string> {
    const uploaded = await this.client.files.create({ file: await toFile(Buffer.from(file.content), `${file.name}.jsonl`), purpose: 'batch' });
    const batch = await this.client.batches.create({ input_file_id: uploaded.id, endpoint: CHAT_COMPLETIONS, completion_window: '24h', metadata: { aidsafe_batch: file.name } });
    return batch.id;
  }

  async find(name: string): Promise<string | undefined> {
    let page = await this.client.batches.list({ limit: 100 });
    for (let i = 0; i < FIND_PAGES; i++) {
      const hit = page.data.find((b) => b.metadata?.aidsafe_batch === name);
      if (hit) return hit.id;
      if (!page.hasNextPage()) return undefined;
      page = await page.getNextPage();
    }
    return undefined;
  }

  async poll(id: string): Promise<BatchPoll> {
    const batch = await this.client.batches.retrieve(id);
    return { status: batch.status, done: TERMINAL_STATUSES.has(batch.status) };
  }

  async results(id: string): Promise<string[]> {
    const batch = await this.client.batches.retrieve(id);
    const lines: string[] = [];
    // An expired or cancelled batch may still have results for the requests it finished.
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (!fileId) continue;
      const text = await (await this.downloads.files.content(fileId)).text();
      lines.push(...text.split('\n').filter((l) => l.trim()));
    }
    return lines;
  }

  async cancel(id: string): Promise<void> {
    await this.client.batches.cancel(id);
  }
}
