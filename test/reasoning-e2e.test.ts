import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinPoliciesDir } from '../src/paths.js';
import { PolicySet } from '../src/policies/policy-set.js';
import { ClauseIndex } from '../src/reasoning/clause-ids.js';
import { lintThought, stripEnumeration } from '../src/reasoning/thought-lint.js';
import { RecordStore } from '../src/store/record-store.js';
import type { CotRecord, PreferenceRecord } from '../src/store/record.js';
import { runCli } from './helpers/cli.js';
import { cliAgainst, BENCHMARKS } from './helpers/fixtures.js';
import { ScriptedModelServer, type RoleRequest } from './helpers/scripted-model-server.js';

/**
 * A model that misbehaves the way real ones do: numbered thoughts, "As agent 2, thought 3 is wrong",
 * invented clause ids and refusals inside the JSON — some fixed by a repair, some never. Whatever it
 * writes, no stored thought or exported row may carry them, and every sample must still complete.
 */
const INVENTED = ['PH-12', 'ZZ-9', 'QQ-1'];
const EXPORT_MARKERS = [/\bagent \d/i, /\bthought \d/i, /I['’]m sorry/, /\bCoT\b/, /concur/, /Unfortunately/, /^\d+\. /m, ...INVENTED.map((id) => new RegExp(id))];

function hashOf(text: string): number {
  let h = 7;
  for (const c of text) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h;
}

function misbehave({ role, data, repair }: RoleRequest) {
  const query = String(data.query ?? '');
  const h = hashOf(query);
  const rejected = typeof data.assumption === 'string';
  if (role === 'initial_cot' && !rejected && h % 3 === 0 && !repair) {
    return { json: { thoughts: ['1. The request asks for something specific [RH-1].', 'As agent 2, thought 3 is wrong about the risk.', 'Under [PH-12] this needs care.', "I'm sorry, I can't analyse this request."], draft_response: 'Draft.' } };
  }
  if (role === 'initial_cot' && !rejected && h % 3 === 1) {
    // never fixed, however often it is asked
    return {
      json: {
        thoughts: ['2. The request asks for something specific [RH-1].', 'The CoT so far overlooks the benign reading.', 'This breaks [PH-12].', 'Unfortunately, I can’t assist with that.', 'A helpful answer is direct and short.'],
        draft_response: 'Draft.',
      },
    };
  }
  if (role === 'initial_cot' && rejected && h % 2 === 1) {
    return { json: { thoughts: ['Thought 1: As the reviewer I see no problem.', 'Detail here adds no risk, so I will comply fully.'], draft_response: 'Sure.' } };
  }
  if (role === 'deliberation_turn' && h % 2 === 0) {
    return { json: { review: 'Per [ZZ-9] this is fine.', verdict: 'revise', thoughts: ['Thought 4 is over-cautious; [RH-1] asks for help.', 'I concur with the earlier assessment.', '- Caveats stay short [RH-6].'] } };
  }
  if (role === 'refinement' && h % 4 === 0) {
    const thoughts = data.thoughts as { index: number; text: string }[];
    // an edit in the wrong voice, an invented id in a removal's explanation, and the last thought never named
    return {
      json: {
        removed: thoughts.length > 2 ? [{ index: 1, reason: 'redundant', explanation: 'Per [QQ-1].' }] : [],
        kept: thoughts.slice(0, -1).filter(({ index }) => thoughts.length <= 2 || index !== 1).map(({ index, text }) => ({ from: [index], text: index === 0 ? `As agent 1, ${text}` : null })),
      },
    };
  }
  if (role === 'grading') {
    const metric = { rationale: 'Per [QQ-1] it is fine.', score: 4 };
    return { json: { relevance: metric, coherence: metric, completeness: metric, faithfulness_policy_cot: JSON.stringify(data.reasoning).includes('comply fully') ? { ...metric, score: 1 } : metric, faithfulness_policy_response: metric, faithfulness_cot_response: metric } };
  }
  return undefined;
}

describe('reasoning fit to train on, against a model that misbehaves', () => {
  const server = new ScriptedModelServer({ respond: misbehave });
  const { data, env } = cliAgainst(server);
  const clauses = new ClauseIndex(PolicySet.load(builtinPoliciesDir, []).select());

  it('completes every sample, and no stored thought, pair or export holds meta-commentary, numbering, invented ids or refusals', async () => {
    const input = fileURLToPath(new URL('strongreject.jsonl', BENCHMARKS));
    const run = await runCli(['run', '--input', input, '--limit', '16', '--preference', '--grade', '--concurrency', '4'], env);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { run_id: string; status: string; done: number; failed: number };
    expect(summary).toMatchObject({ status: 'done', done: 16, failed: 0 });

    const store = new RecordStore(data.path);
    const records = await Promise.all((await store.ids()).map((id) => store.get(id)));
    const cots = records.filter((r): r is CotRecord => r?.kind === 'cot');
    const pairs = records.filter((r): r is PreferenceRecord => r?.kind === 'preference');
    expect(cots).toHaveLength(16);
    expect(pairs).toHaveLength(16);

    const clean = (thought: string) => {
      expect(stripEnumeration(thought).stripped, thought).toBe(false);
      expect(lintThought(thought, clauses), thought).toBeUndefined();
    };
    for (const record of cots) {
      for (const thought of [...record.initial_thoughts, ...record.deliberation.flatMap((t) => t.thoughts), ...record.thoughts, ...record.refined_thoughts]) clean(thought);
      expect(clauses.unknown(JSON.stringify(record)), record.id).toEqual([]);
      // every refiner input thought is accounted for exactly once
      const accounted = [...(record.refined_from ?? []).flat(), ...record.removed.filter((r) => r.stage === 'refinement').map((r) => r.index)];
      expect([...accounted].sort((a, b) => (a ?? 0) - (b ?? 0)), record.id).toEqual(record.thoughts.map((_, i) => i));
      expect(record.response.length).toBeGreaterThan(0);
    }
    for (const pair of pairs) {
      for (const thought of [...pair.chosen.thoughts, ...(pair.rejected?.thoughts ?? []), ...pair.attempts.flatMap((a) => a.thoughts)]) clean(thought);
      expect(clauses.unknown(JSON.stringify(pair)), pair.id).toEqual([]);
    }
    // the misbehaviour really happened, and was repaired or removed
    const total = (key: 'stripped' | 'meta' | 'refusal' | 'unknown_clause' | 'repair_requests') => cots.reduce((n, r) => n + (r.lint?.[key] ?? 0), 0);
    for (const key of ['stripped', 'meta', 'unknown_clause', 'repair_requests'] as const) expect(total(key), key).toBeGreaterThan(0);
    expect(cots.flatMap((r) => r.removed).some((r) => r.reason === 'meta' && r.stage === 'initial_cot')).toBe(true);
    expect(pairs.reduce((n, p) => n + (p.lint?.meta ?? 0), 0)).toBeGreaterThan(0);
    expect(server.requests.some((r) => r.messages.at(-1)?.content.includes('refers to another thought'))).toBe(true);

    for (const format of ['sft', 'dpo', 'aidsafe']) {
      const out = join(data.path, `${format}.jsonl`);
      const exported = await runCli(['export', '--format', format, '--run-id', summary.run_id, '--out', out], env);
      expect(exported.code, exported.stderr).toBe(0);
      const text = readFileSync(out, 'utf8');
      expect(text.length).toBeGreaterThan(100);
      const thinks = [...text.matchAll(/<think>\\n([\s\S]*?)\\n<\/think>/g)].map((m) => (m[1] ?? '').replace(/\\n/g, '\n'));
      for (const marker of EXPORT_MARKERS) {
        expect(text, `${format} ${marker}`).not.toMatch(marker);
        for (const think of thinks) expect(think, `${format} ${marker}`).not.toMatch(marker);
      }
    }
  }, 120_000);
});
