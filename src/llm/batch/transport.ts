/** A batch input file ready to go: its name (unique within the run) and its JSONL text. */
export interface BatchFile {
  name: string;
  content: string;
  requests: number;
}

export interface BatchPoll {
  /** The provider's word for it (validating, in_progress, finalizing, completed, failed, expired, cancelled…). */
  status: string;
  /** True once no more results will come. */
  done: boolean;
}

/** Where waves of requests go and their results come from: a provider's Batch API, or a folder a batch runner watches. */
export interface BatchTransport {
  readonly kind: 'provider' | 'files';
  /** Sends a file and starts its batch; resolves with the batch id. */
  submit(file: BatchFile): Promise<string>;
  /** The id of a batch submitted under this name before the process stopped, if it was. */
  find(name: string): Promise<string | undefined>;
  poll(id: string): Promise<BatchPoll>;
  /** The batch's result lines: the output file, then the error file. */
  results(id: string): Promise<string[]>;
  cancel(id: string): Promise<void>;
}

export const TERMINAL_STATUSES = new Set(['completed', 'failed', 'expired', 'cancelled']);
