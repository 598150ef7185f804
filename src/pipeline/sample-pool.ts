/**
 * Runs `start` over the items of an (async) iterable with at most `limit()` items in their model-call
 * phase at once. Items are taken from the iterable only when a slot is free, so a stream of a million
 * rows is read as the pool goes, never held. An item frees its slot early (through the callback it is
 * given) once its calls are over, so the next item's calls start while its results are written; the
 * pool resolves when nothing is outstanding and either the items are used up or `canStart` says no
 * more may start.
 */
export async function runPool<T>(
  items: AsyncIterable<T> | Iterable<T>,
  options: {
    limit: () => number;
    /** False stops the pool; it may also record why. */
    canStart: (outstanding: number) => boolean;
    start: (item: T, freeSlot: () => void) => Promise<void>;
    onSettled: () => void;
    /** Told true while the pool is taking more items, false once it has all it may take for now. */
    onFilling?: (filling: boolean) => void;
  },
): Promise<void> {
  const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  // `active` counts items in their model-call phase (what concurrency limits); `outstanding`
  // also counts items still writing their results, which the pool waits for before it ends.
  let active = 0;
  let outstanding = 0;
  let wake: (() => void) | undefined;
  const changed = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const waitForChange = () => new Promise<void>((resolve) => (wake = resolve));
  let failure: { error: unknown } | undefined;
  try {
    for (;;) {
      if (active >= options.limit()) {
        options.onFilling?.(false);
        while (active >= options.limit()) await waitForChange();
      }
      options.onFilling?.(true);
      const next = await iterator.next();
      if (next.done) break;
      if (!options.canStart(outstanding)) break;
      active++;
      outstanding++;
      let freed = false;
      const freeSlot = () => {
        if (freed) return;
        freed = true;
        active--;
        changed();
      };
      void options.start(next.value, freeSlot).finally(() => {
        freeSlot();
        outstanding--;
        options.onSettled();
        changed();
      });
    }
  } catch (error) {
    // The items could not be read (the input changed under the run): what was started still ends first.
    failure = { error };
  } finally {
    options.onFilling?.(false);
    // Stops the stream early (closing its file) when the pool ends before the items do.
    await Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
  while (outstanding > 0) await waitForChange();
  if (failure) throw failure.error;
}
