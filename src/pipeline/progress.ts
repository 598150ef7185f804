/** A stage finished or a turn was taken; `step` counts up to `total`, which can shrink when deliberation stops early. */
export interface ProgressEvent {
  step: number;
  total: number;
  message: string;
}

export type ProgressListener = (event: ProgressEvent) => void | Promise<void>;

/** Counts a pipeline's steps toward an expected total, which can shrink when a stage ends early. */
export class ProgressCounter {
  step = 0;

  constructor(
    public total: number,
    private readonly listener?: ProgressListener,
  ) {}

  async tick(message: string): Promise<void> {
    this.step += 1;
    await this.listener?.({ step: this.step, total: this.total, message });
  }
}
