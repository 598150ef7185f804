import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The OpenAI Files and Batch APIs of the scripted server: `/v1/files` (upload, content) and
 * `/v1/batches` (create, retrieve, list, cancel). A batch completes after a configurable delay, each
 * of its lines answered as `/v1/chat/completions` would answer it; an answer other than 200 (an
 * injected fault, `failWith`, or `lineError`) goes to the batch's error file. Everything is counted,
 * so a test can tell what a client uploaded, created, polled and cancelled.
 */
export interface BatchApiOptions {
  /** How long a batch stays in progress before its lines are answered. Default 50 ms. */
  delayMs?: number;
  /** Ends the nth batch created (1-based) as failed or expired, without an output file. */
  outcome?: (n: number) => 'failed' | 'expired' | undefined;
  /** Answers one line of a batch with an error (it goes to the error file) instead of a completion. */
  lineError?: (line: BatchLine) => { status: number; message: string } | undefined;
}

export interface BatchLine {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

export interface ScriptedBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: 'validating' | 'in_progress' | 'finalizing' | 'completed' | 'failed' | 'expired' | 'cancelling' | 'cancelled';
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  errors: { data: { code: string; message: string }[] } | null;
}

type Answer = (bodyText: string) => Promise<{ status: number; body: unknown } | undefined>;

export class ScriptedBatchApi {
  readonly files = new Map<string, { filename: string; purpose: string; content: string }>();
  readonly batches = new Map<string, ScriptedBatch>();
  /** What clients did: uploads, batch creates, cancels, and polls per batch id. */
  readonly counts = { uploads: 0, creates: 0, cancels: 0, retrieves: new Map<string, number>() };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly answer: Answer,
    readonly options: BatchApiOptions = {},
  ) {}

  /** Every request line uploaded in a batch input file, in upload order. */
  uploadedLines(): BatchLine[] {
    return [...this.files.values()].filter((f) => f.purpose === 'batch').flatMap((f) => parseLines(f.content) as BatchLine[]);
  }

  /** Answers the lines of a batch input file as a batch runner would (vllm run-batch, or a provider): one output line per request. */
  async runBatchFile(content: string): Promise<{ output: string[]; errors: string[] }> {
    const output: string[] = [];
    const errors: string[] = [];
    for (const line of parseLines(content) as BatchLine[]) {
      const injected = this.options.lineError?.(line);
      const answer = injected ? { status: injected.status, body: { error: { message: injected.message } } } : await this.answer(JSON.stringify(line.body));
      const status = answer?.status ?? 504;
      const row = { id: `batch_req_${randomBytes(6).toString('hex')}`, custom_id: line.custom_id, response: { status_code: status, request_id: `req_${randomBytes(6).toString('hex')}`, body: answer?.body ?? { error: { message: 'no answer' } } }, error: null };
      (status === 200 ? output : errors).push(JSON.stringify(row));
    }
    return { output, errors };
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/^.*?\/(files|batches)/, '/$1');
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && path === '/files') return this.upload(req, res);
    if (req.method === 'GET' && (m = /^\/files\/([^/]+)\/content$/.exec(path))) {
      const file = this.files.get(m[1]!);
      if (!file) return json(res, 404, { error: { message: `no file ${m[1]}` } });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(file.content);
      return;
    }
    if (req.method === 'POST' && path === '/batches') return this.create(JSON.parse(await body(req)) as Record<string, unknown>, res);
    if (req.method === 'GET' && path === '/batches') {
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const data = [...this.batches.values()].reverse().slice(0, limit);
      return json(res, 200, { object: 'list', data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }
    if (req.method === 'GET' && (m = /^\/batches\/([^/]+)$/.exec(path))) {
      const batch = this.batches.get(m[1]!);
      if (!batch) return json(res, 404, { error: { message: `no batch ${m[1]}` } });
      this.counts.retrieves.set(batch.id, (this.counts.retrieves.get(batch.id) ?? 0) + 1);
      return json(res, 200, batch);
    }
    if (req.method === 'POST' && (m = /^\/batches\/([^/]+)\/cancel$/.exec(path))) {
      const batch = this.batches.get(m[1]!);
      if (!batch) return json(res, 404, { error: { message: `no batch ${m[1]}` } });
      this.counts.cancels++;
      if (!['completed', 'failed', 'expired'].includes(batch.status)) batch.status = 'cancelled';
      return json(res, 200, batch);
    }
    return json(res, 404, { error: { message: 'not found' } });
  }

  private async upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = req.headers['content-type'] ?? '';
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
    if (!boundary) return json(res, 400, { error: { message: 'expected multipart/form-data' } });
    const parts = multipart(await bodyBuffer(req), boundary[1] ?? boundary[2]!);
    const file = parts.find((p) => p.name === 'file');
    const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8') ?? '';
    if (!file) return json(res, 400, { error: { message: 'no file' } });
    this.counts.uploads++;
    const id = `file-${randomBytes(8).toString('hex')}`;
    this.files.set(id, { filename: file.filename ?? 'upload', purpose, content: file.data.toString('utf8') });
    return json(res, 200, { id, object: 'file', bytes: file.data.length, created_at: now(), filename: file.filename, purpose, status: 'processed' });
  }

  private create(params: Record<string, unknown>, res: ServerResponse): void {
    const input = this.files.get(String(params.input_file_id));
    if (!input) return json(res, 400, { error: { message: `no file ${String(params.input_file_id)}` } });
    this.counts.creates++;
    const n = this.counts.creates;
    const batch: ScriptedBatch = {
      id: `batch_${randomBytes(8).toString('hex')}`,
      object: 'batch',
      endpoint: String(params.endpoint),
      input_file_id: String(params.input_file_id),
      completion_window: String(params.completion_window),
      status: 'in_progress',
      output_file_id: null,
      error_file_id: null,
      created_at: now(),
      request_counts: { total: parseLines(input.content).length, completed: 0, failed: 0 },
      metadata: (params.metadata as Record<string, string> | undefined) ?? null,
      errors: null,
    };
    this.batches.set(batch.id, batch);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.finish(batch, input.content, this.options.outcome?.(n));
    }, this.options.delayMs ?? 50);
    this.timers.add(timer);
    json(res, 200, batch);
  }

  private async finish(batch: ScriptedBatch, content: string, outcome: 'failed' | 'expired' | undefined): Promise<void> {
    if (batch.status !== 'in_progress') return; // cancelled meanwhile
    if (outcome) {
      batch.status = outcome;
      batch.errors = { data: [{ code: outcome, message: `scripted: the batch ${outcome}` }] };
      return;
    }
    const { output, errors } = await this.runBatchFile(content);
    if (batch.status !== 'in_progress') return;
    batch.output_file_id = output.length ? this.store(output.join('\n') + '\n') : null;
    batch.error_file_id = errors.length ? this.store(errors.join('\n') + '\n') : null;
    batch.request_counts = { total: output.length + errors.length, completed: output.length, failed: errors.length };
    batch.status = 'completed';
  }

  private store(content: string): string {
    const id = `file-${randomBytes(8).toString('hex')}`;
    this.files.set(id, { filename: `${id}.jsonl`, purpose: 'batch_output', content });
    return id;
  }
}

function parseLines(content: string): unknown[] {
  return content
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

/** The parts of a multipart/form-data body: enough of RFC 7578 for what the openai client sends. */
function multipart(data: Buffer, boundary: string): { name: string; filename?: string; data: Buffer }[] {
  const parts: { name: string; filename?: string; data: Buffer }[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = data.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = data.indexOf(delimiter, start);
    if (next < 0) break;
    const part = data.subarray(start + 2, next - 2); // skip the CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const head = part.subarray(0, split).toString('utf8');
      const name = /name="([^"]*)"/.exec(head)?.[1] ?? '';
      const filename = /filename="([^"]*)"/.exec(head)?.[1];
      parts.push({ name, ...(filename !== undefined ? { filename } : {}), data: part.subarray(split + 4) });
    }
    at = next;
  }
  return parts;
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

function bodyBuffer(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function body(req: IncomingMessage): Promise<string> {
  return (await bodyBuffer(req)).toString('utf8');
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}
