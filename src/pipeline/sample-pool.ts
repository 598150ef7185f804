/**
 * Runs `start` over a queue with at most `limit()` items in their model-call phase at once. An item
 * frees its slot early (through the callback it is given) once its calls are over, so the next item's
 * calls start while its results are written; the pool resolves when nothing is outstanding and either
 * the queue is empty or `canStart` says no more may start.
 */
export function runPool<T>(queue: T[], options: {
  limit: () => number;
  /** False stops the pool; it may also record why. */
  canStart: (outstanding: number) => boolean;
  start: (item: T, freeSlot: () => void) => Promise<void>;
  onSettled: () => void;
}): Promise<void> {
  return new Promise<void>((resolveAll) => {
    // `active` counts items in their model-call phase (what concurrency limits); `outstanding`
    // also counts items still writing their results, which the pool waits for before it ends.
    let active = 0;
    let outstanding = 0;
    let stopped = false;
    const pump = () => {
      while (!stopped && queue.length > 0 && active < options.limit()) {
        if (!options.canStart(outstanding)) {
          stopped = true;
          break;
        }
        const item = queue.shift() as T;
        active++;
        outstanding++;
        let freed = false;
        const freeSlot = () => {
          if (freed) return;
          freed = true;
          active--;
          pump();
        };
        options.start(item, freeSlot).finally(() => {
          freeSlot();
          outstanding--;
          options.onSettled();
          pump();
        });
      }
      if (outstanding === 0 && (stopped || queue.length === 0)) resolveAll();
    };
    pump();
  });
}
