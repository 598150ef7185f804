import type { CompletionResult } from '../llm/chat-model.js';
import type { ClauseIndex } from '../reasoning/clause-ids.js';
import { cleanThoughts, type LintCounts } from '../reasoning/thought-lint.js';
import type { CotRecord } from '../store/record.js';

type Stage = NonNullable<CotRecord['removed'][number]['stage']>;

/**
 * The linter's last pass over thoughts a model wrote (after its repairs): strips enumerations and
 * moves what still fails into `removed`, tagged with the stage. Counts go into `lint`.
 */
export function keepCleanThoughts(
  thoughts: readonly string[],
  result: Pick<CompletionResult<unknown>, 'checkRepairs'>,
  stage: Stage,
  clauses: ClauseIndex,
  lint: LintCounts,
  removed: CotRecord['removed'],
): string[] {
  const cleaned = cleanThoughts(thoughts, clauses);
  for (const key of ['stripped', 'meta', 'refusal', 'unknown_clause'] as const) lint[key] += cleaned.counts[key];
  lint.repair_requests += result.checkRepairs ?? 0;
  removed.push(...cleaned.removed.map((r) => ({ ...r, stage })));
  return cleaned.kept;
}
