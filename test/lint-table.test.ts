import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinPoliciesDir } from '../src/paths.js';
import { PolicySet } from '../src/policies/policy-set.js';
import { ClauseIndex } from '../src/reasoning/clause-ids.js';
import { lintChain } from '../src/reasoning/lint-chain.js';

/**
 * The linter's error rates on a table of realistic thoughts (good and bad, about benign, borderline
 * and harmful requests, worded the way small instruction-tuned models write). docs/lint.md publishes
 * the rates this test measures; the bounds keep them from drifting up.
 */
interface Row {
  prompt: string;
  thought: string;
  expected: 'ok' | 'meta' | 'refusal' | 'unknown_clause' | 'belief_leak';
  belief?: string;
}

const clauses = new ClauseIndex(PolicySet.load(builtinPoliciesDir, []).select());

function measure(file: string) {
  const rows = readFileSync(new URL(`fixtures/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Row);
  const verdicts = rows.map((row) => ({ row, got: lintChain([row.thought], { clauses, prompt: row.prompt, ...(row.belief ? { belief: row.belief } : {}) })[0]?.kind ?? 'ok' }));
  const good = verdicts.filter((v) => v.row.expected === 'ok');
  const bad = verdicts.filter((v) => v.row.expected !== 'ok');
  const falsePositives = good.filter((v) => v.got !== 'ok');
  const falseNegatives = bad.filter((v) => v.got === 'ok');
  const wrongKind = bad.filter((v) => v.got !== 'ok' && v.got !== v.row.expected);
  const report = {
    rows: rows.length,
    good: good.length,
    bad: bad.length,
    false_positive_rate: falsePositives.length / good.length,
    false_negative_rate: falseNegatives.length / bad.length,
    wrong_kind: wrongKind.length,
    false_positives: falsePositives.map((v) => `${v.got}: ${v.row.thought}`),
    false_negatives: falseNegatives.map((v) => `${v.row.expected}: ${v.row.thought}`),
    wrong_kinds: wrongKind.map((v) => `${v.row.expected} → ${v.got}: ${v.row.thought}`),
  };
  console.log(`${file}: ${JSON.stringify(report, null, 2)}`);
  return report;
}

describe('the linter on a table of realistic thoughts', () => {
  it('lint-table.jsonl: at least 100 rows, few false positives and few misses', () => {
    const r = measure('lint-table.jsonl');
    expect(r.rows).toBeGreaterThanOrEqual(100);
    expect(r.false_positive_rate).toBeLessThanOrEqual(0.03);
    expect(r.false_negative_rate).toBeLessThanOrEqual(0.05);
    expect(r.wrong_kind).toBe(0);
  });

  // Written after the patterns were tuned on the table above; no pattern was added for its misses: the fairer estimate.
  it('lint-table-holdout.jsonl: rates on thoughts the patterns were not tuned on', () => {
    const r = measure('lint-table-holdout.jsonl');
    expect(r.rows).toBeGreaterThanOrEqual(50);
    expect(r.false_positive_rate).toBeLessThanOrEqual(0.05);
    expect(r.false_negative_rate).toBeLessThanOrEqual(0.15);
  });
});
