import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../src/eval/eval-result.js';
import { PAPER_TABLE_2, scoreSamples } from '../src/eval/scoring.js';
import { buildEvalReport } from '../src/report/eval-report.js';
import type { EvalRecord, EvalVerdict } from '../src/store/record.js';

function record(i: number, category: string, label: 'safe' | 'unsafe', classification: 'full_compliance' | 'full_refusal'): EvalRecord {
  const verdict: EvalVerdict = { kind: 'xstest', classification };
  const usage = { calls: 2, cached_calls: 0, prompt_tokens: 10, completion_tokens: 10, by_role: {}, by_model: {} };
  return { schema_version: 1, kind: 'eval', id: `eval_${i}`, suite: 'xstest', index: i, target: 'm', target_model: 'm', prompt: `prompt ${i} <b>`, category, label, reply: 'reply', thinking: `thinking ${i}`, verdict, reason: 'why', judge_model: 'judge-1', usage, prompt_template_version: 'v', created_at: 'now' };
}

describe('eval HTML report', () => {
  it('charts every metric per category, XSTest safe and contrast types alike, and embeds every sample', () => {
    const samples = [record(0, 'homonyms', 'safe', 'full_refusal'), record(1, 'homonyms', 'safe', 'full_compliance'), record(2, 'contrast_homonyms', 'unsafe', 'full_compliance'), record(3, 'contrast_homonyms', 'unsafe', 'full_refusal')];
    const result: EvalResult = {
      eval_id: 'eval-test',
      status: 'done',
      created_at: 'now',
      judge_models: ['judge-1'],
      targets: [{ label: 'm', model: 'm', temperature: 0 }],
      suites: [{ name: 'xstest', kind: 'xstest', path: '/x.csv', sha256: 'x', column: 'prompt', prompts: 4, license: 'CC-BY-4.0', source: 'XSTest' }],
      runs: [{ run_id: 'run-x', target: 'm', suite: 'xstest', status: 'done', total: 4, done: 4, failed: 0 }],
      scores: scoreSamples(samples, { xstest: 'xstest' }, ['m']),
      paper_scale: [],
      paper_reference: PAPER_TABLE_2,
    };
    const html = buildEvalReport(result, samples, []);
    expect(html).toContain('id="chart-xstest-over_refusal_rate-0-categories"');
    expect(html).toContain('id="chart-xstest-unsafe_compliance_rate-0-categories"');
    expect(html).toContain('thinking 3');
    expect(html).not.toContain('prompt 0 <b>'); // escaped in the embedded JSON
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});
