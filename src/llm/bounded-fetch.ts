import { APIConnectionError, APIConnectionTimeoutError } from 'openai';

/**
 * A `fetch` for the openai client that bounds each HTTP call as a whole. The client's own `timeout`
 * stops once the headers arrive, so a server that answers 200 and then sends a byte a second would
 * hold the call (and a sample slot) for as long as it likes; and it buffers a body of any size. Here
 * one deadline runs from the call until the last byte of the body, and a body longer than `maxBytes`
 * is cut off while it streams, never buffered whole.
 */
export interface BoundedFetchOptions {
  /** Connecting, headers and the whole body together; with `idle`, the longest wait for the headers or the next byte. */
  timeoutMs: number;
  /**
   * For downloads whose size has no bound (a batch's output file): the deadline starts again at
   * every chunk, so a stalled body still fails but a long, steady one does not.
   */
  idle?: boolean;
  /** Bytes of body read at most; undefined reads any length. */
  maxBytes?: number;
}

/** The body went on past the cap: whatever the server meant to send, it is not a reply to use. */
export class ReplyTooLargeError extends Error {
  override name = 'ReplyTooLargeError';
  constructor(
    readonly limit: number,
    readonly contentType: string | undefined,
    /** The first bytes received, for the error message. */
    readonly head: string,
  ) {
    super(`the reply was larger than ${formatBytes(limit)} (max_reply_bytes) and was cut off`);
  }
}

/**
 * The deadline passed while the body was still coming. It is the client's own timeout error, so
 * every caller's retry policy (src/llm/retry.ts) counts it as a timeout, like one before the headers.
 */
export class BodyTimeoutError extends APIConnectionTimeoutError {
  constructor(timeoutMs: number) {
    super({ message: `the reply did not arrive in full within ${timeoutMs} ms (request_timeout_ms): the server sent its headers and then stalled` });
  }
}

const HEAD_BYTES = 200;

export function boundedFetch(options: BoundedFetchOptions, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const inner = new AbortController();
    const outer = init?.signal;
    const onAbort = () => inner.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    else outer?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    let onDeadline = () => {
      timedOut = true;
      inner.abort();
    };
    // Unref'd: a body nobody reads (a 204) must not keep a finished process alive until the deadline.
    const timer = setTimeout(() => onDeadline(), options.timeoutMs);
    timer.unref();
    const restart = options.idle ? () => timer.refresh() : () => {};
    const finish = () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    };
    let response: Response;
    try {
      // Aborted before the headers, fetch rejects with an AbortError: the client reports that as its own timeout.
      response = await base(input, { ...init, signal: inner.signal });
    } catch (error) {
      finish();
      throw error;
    }
    if (!response.body) {
      finish();
      return response;
    }
    const contentType = response.headers.get('content-type') ?? undefined;
    const source = response.body.getReader();
    const head: Uint8Array[] = [];
    let headLength = 0;
    let received = 0;
    let ended = false;
    let stream!: ReadableStreamDefaultController<Uint8Array>;
    /** Ends the body once, whole or with an error; on an error the socket is closed. Either way the deadline is cleared. */
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      finish();
      if (error === undefined) return stream.close();
      stream.error(error);
      inner.abort();
      source.cancel().catch(() => {});
    };
    const tooLarge = () => new ReplyTooLargeError(options.maxBytes ?? 0, contentType, Buffer.concat(head).toString('utf8'));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        stream = controller;
        onDeadline = () => {
          timedOut = true;
          end(new BodyTimeoutError(options.timeoutMs));
        };
        const declared = Number(response.headers.get('content-length') ?? NaN);
        if (options.maxBytes !== undefined && declared > options.maxBytes) end(tooLarge());
      },
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof source.read>>;
        try {
          chunk = await source.read();
        } catch (error) {
          // The deadline may have fired just as the headers came; a caller's cancel stays a cancel.
          // undici says only "terminated" when the server drops the connection mid-body; as the
          // client's connection error it is retried like one dropped before the headers.
          if (timedOut) return end(new BodyTimeoutError(options.timeoutMs));
          if (error instanceof Error && error.name === 'AbortError') return end(error);
          return end(new APIConnectionError({ message: 'the connection closed before the whole reply arrived', cause: error as Error }));
        }
        if (ended) return;
        if (chunk.done) return end();
        received += chunk.value.byteLength;
        restart();
        if (headLength < HEAD_BYTES) {
          const part = chunk.value.subarray(0, HEAD_BYTES - headLength);
          head.push(part);
          headLength += part.byteLength;
        }
        if (options.maxBytes !== undefined && received > options.maxBytes) return end(tooLarge());
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        ended = true;
        finish();
        return source.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
