import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, isInitializeRequest, isJSONRPCRequest, JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { log } from '../log.js';
import { MAX_MESSAGE_BYTES } from './limits.js';

/**
 * MCP over stdio: one JSON-RPC message per line. Unlike the SDK's stdio transport, which closes the
 * connection (and so ends the process, silently) on a message over its buffer limit and drops lines
 * that are not valid messages without a word, this one answers every bad line with a JSON-RPC error —
 * for the request's id when it can be read — and keeps serving.
 *
 * Until a valid `initialize` request has arrived, every other request but `ping` is refused with an
 * error: the MCP lifecycle makes initialization the first interaction, and a client that skips it has
 * negotiated no protocol version or capabilities for the server to answer under. (HTTP needs no such
 * gate: a request without a session, which only `initialize` opens, is refused there.)
 */
export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes of an over-limit line skipped so far (-1: not skipping); its first bytes are kept to find its id. */
  private skipped = -1;
  private skippedHead = '';
  private started = false;
  private initialized = false;

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly maxBytes = MAX_MESSAGE_BYTES,
  ) {}

  async start(): Promise<void> {
    if (this.started) throw new Error('stdio transport already started');
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStreamError);
  }

  async close(): Promise<void> {
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStreamError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.chunks = [];
    this.size = 0;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(JSON.stringify(message) + '\n')) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  private readonly onStreamError = (error: Error): void => this.onerror?.(error);

  private readonly onData = (chunk: Buffer | string): void => {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (data.length > 0) {
      const newline = data.indexOf(0x0a);
      const part = newline === -1 ? data : data.subarray(0, newline);
      this.take(part);
      if (newline === -1) break;
      this.endLine();
      data = data.subarray(newline + 1);
    }
  };

  private take(part: Buffer): void {
    if (this.skipped >= 0) {
      if (this.skippedHead.length < HEAD_CHARS) this.skippedHead += part.subarray(0, HEAD_CHARS).toString('utf8');
      this.skipped += part.length;
      return;
    }
    if (this.size + part.length <= this.maxBytes) {
      this.chunks.push(part);
      this.size += part.length;
      return;
    }
    // Over the limit: keep only enough of the start to find the request id, and skip to the line's end.
    this.skippedHead = Buffer.concat([...this.chunks, part.subarray(0, HEAD_CHARS)]).toString('utf8').slice(0, HEAD_CHARS);
    this.skipped = this.size + part.length;
    this.chunks = [];
    this.size = 0;
  }

  private endLine(): void {
    if (this.skipped >= 0) {
      const bytes = this.skipped;
      const id = peekRequestId(this.skippedHead);
      this.skipped = -1;
      this.skippedHead = '';
      log('error', `stdio: a message of ${bytes} bytes is over the ${this.maxBytes}-byte limit; answered with an error and skipped`);
      void this.reply(id ?? null, ErrorCode.InvalidRequest, `message too large: ${bytes} bytes, over the ${this.maxBytes}-byte limit of this server`);
      return;
    }
    const line = Buffer.concat(this.chunks).toString('utf8').replace(/\r$/, '');
    this.chunks = [];
    this.size = 0;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      void this.reply(null, ErrorCode.ParseError, 'parse error: the line is not JSON');
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) {
      const id = idOf(value);
      // A stray response or notification gets no answer; anything that looks like a request does.
      if (id !== undefined || !isObject(value) || !('result' in value || 'error' in value)) {
        void this.reply(id ?? null, ErrorCode.InvalidRequest, 'invalid request: not a JSON-RPC 2.0 message (jsonrpc "2.0", a method name, an id that is a string or number)');
      }
      return;
    }
    const message = parsed.data;
    if (!this.initialized && isJSONRPCRequest(message)) {
      if (isInitializeRequest(message)) this.initialized = true;
      else if (message.method !== 'ping') {
        void this.reply(message.id, ErrorCode.InvalidRequest, `not initialized: send an "initialize" request first; before it this server answers only "ping" (got "${message.method.slice(0, 100)}")`);
        return;
      }
    }
    try {
      this.onmessage?.(message);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private reply(id: RequestId | null, code: number, message: string): Promise<void> {
    // JSON-RPC answers a request it cannot read with id null; the SDK's message type has no room for that.
    return this.send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage);
  }
}

/** Enough of an over-limit line to find its top-level "id", which JSON-RPC clients write before the params. */
const HEAD_CHARS = 4096;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): RequestId | undefined {
  if (!isObject(value)) return undefined;
  const id = value.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
}

/** The top-level "id" of a JSON object from its first characters, if it comes before they run out. */
export function peekRequestId(head: string): RequestId | undefined {
  let depth = 0;
  let i = 0;
  const n = head.length;
  while (i < n) {
    const c = head[i];
    if (c === '"') {
      const end = stringEnd(head, i);
      if (end < 0) return undefined;
      const key = head.slice(i + 1, end);
      i = end + 1;
      if (depth === 1 && key === 'id') {
        const m = /^\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(head.slice(i));
        if (m?.[1]) {
          try {
            return JSON.parse(m[1]) as RequestId;
          } catch {
            return undefined;
          }
        }
      }
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return undefined;
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
