import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which sample a model call belongs to, without threading it through every recipe and agent: the
 * run engine enters a scope per sample, and the batch backend reads it to name request lines and to
 * tell when every sample in flight is waiting on the model.
 */
interface SampleScope {
  sample: number;
  /** Calls so far per stage (role), so a line's custom id says which turn of that stage it is. */
  turns: Map<string, number>;
}

const storage = new AsyncLocalStorage<SampleScope>();

export function inSampleScope<T>(sample: number, work: () => Promise<T>): Promise<T> {
  return storage.run({ sample, turns: new Map() }, work);
}

export function currentSample(): { sample: number; nextTurn: (stage: string) => number } | undefined {
  const scope = storage.getStore();
  if (!scope) return undefined;
  return {
    sample: scope.sample,
    nextTurn: (stage) => {
      const turn = (scope.turns.get(stage) ?? 0) + 1;
      scope.turns.set(stage, turn);
      return turn;
    },
  };
}
