/** A stage finished or a turn was taken; `step` counts up to `total`, which can shrink when deliberation stops early. */
export interface ProgressEvent {
  step: number;
  total: number;
  message: string;
}

export type ProgressListener = (event: ProgressEvent) => void | Promise<void>;
