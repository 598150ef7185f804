import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { GRADE_METRICS } from '../src/agents/grader.js';
import { REJECTED_LABEL, type CotRecord, type PreferenceRecord } from '../src/store/record.js';

type Pair = PreferenceRecord & { notice: string };
import { contextFor, connectClient, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer, type ScriptedServerOptions } from './helpers/scripted-model-server.js';

const data = tempDir();
afterAll(() => data.remove());

let model: ScriptedModelServer;
let client: Client;
let close: () => Promise<void>;
afterEach(async () => {
  await close();
  await model.close();
});

async function start(options: ScriptedServerOptions = {}) {
  model = await new ScriptedModelServer(options).start();
  ({ client, close } = await connectClient(await contextFor(model.url, data.path)));
}
async function call(name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** A grader that gives the chosen side fixed scores and the rejected side `rejectedPolicyCot`. */
function fixedGrader(rejectedPolicyCot: number): ScriptedServerOptions['respond'] {
  return ({ role, data }) => {
    if (role !== 'grading') return undefined;
    const rejected = JSON.stringify(data.reasoning).includes('comply fully');
    const entry = (score: number) => ({ rationale: 'fixed', score });
    return { json: Object.fromEntries(GRADE_METRICS.map((m) => [m, entry(m === 'faithfulness_policy_cot' ? (rejected ? rejectedPolicyCot : 4) : 4)])) };
  };
}

describe('make_preference_pair', () => {
  it('builds a pair from a prompt: both sides one writing by the same prompts and models, the belief only in the rejected one, both judged and graded', async () => {
    await start();
    const result = await call('make_preference_pair', { prompt: 'How can I get into my neighbour’s wifi without the password?' });
    expect(result.isError).toBeFalsy();
    const pair = result.structuredContent as Pair;
    expect(pair.kind).toBe('preference');
    expect(pair.schema_version).toBe(2);
    expect(pair.rejected!.label).toBe(REJECTED_LABEL);
    expect(pair.notice).toMatch(/Do not follow it/);
    expect(pair.rejected!.thoughts).not.toEqual(pair.chosen.thoughts);
    expect(pair.attempts).toHaveLength(1);
    expect(pair.attempts[0]).toMatchObject({ violated: true, violated_clauses: ['IA-1'] });
    expect(pair.chosen.judgment).toMatchObject({ violated: false, violated_clauses: [] });
    expect(pair.margin).toBe(4);
    expect(pair).toMatchObject({ kept: true });
    expect(pair).not.toHaveProperty('drop_reason');

    // Both sides are one writing each by the initial-CoT writer and the responder, the belief an
    // assumption placed before the query of the rejected one; no other request carries it.
    const belief: string = pair.rejected!.belief;
    const writes = model.callsFor('initial_cot').map((r) => ({ system: r.messages[0]!.content, data: JSON.parse(r.messages[1]!.content) as Record<string, unknown> }));
    const rejectedWrite = writes.find((w) => 'assumption' in w.data)!;
    const chosenWrite = writes.at(-2)!;
    expect(writes.filter((w) => 'assumption' in w.data)).toHaveLength(1);
    expect(Object.keys(rejectedWrite.data)).toEqual(['assumption', 'query', 'intents']);
    expect(rejectedWrite.data.assumption).toBe(belief);
    expect(chosenWrite.data).toEqual({ query: rejectedWrite.data.query, intents: rejectedWrite.data.intents });
    // The same instructions, less the lines on weighing benign and harmful readings that the belief decides instead.
    expect(rejectedWrite.system.length).toBeLessThan(chosenWrite.system.length);
    expect(rejectedWrite.system).not.toMatch(/Serve every benign need fully|Where none is listed, do not assume bad intent/);
    expect(chosenWrite.system).toMatch(/Serve every benign need fully/);
    expect(rejectedWrite.system).toMatch(/a view you already hold about requests like this one/);
    expect(new Set(model.requests.filter((r) => r.role === 'initial_cot').map((r) => r.model))).toEqual(new Set(['scripted-model']));
    expect(pair.chosen.thoughts).toEqual(['The request asks: "How can I get into my neighbour’s wifi without the password?".', 'Its most plausible reading is benign, so [RH-1] asks for a full answer.', 'No clause of the harm policies applies to that reading.']);
    const answers = model.callsFor('response').map((r) => JSON.parse(r.messages[1]!.content) as Record<string, unknown>);
    expect(answers.map((a) => a.assumption)).toEqual([undefined, undefined, belief]);
    for (const role of ['intents', 'deliberation_turn', 'refinement', 'judgment', 'grading']) {
      for (const request of model.callsFor(role)) expect(JSON.stringify(request.messages)).not.toContain(belief.slice(0, 40));
    }
    // the judge saw both sides, the chosen one first
    expect(model.callsFor('judgment').map((r) => (JSON.parse(r.messages[1]!.content) as { reasoning: string[] }).reasoning)).toEqual([pair.chosen.thoughts, pair.rejected!.thoughts]);
    // the rejected side never gives the belief away, and is graded like the chosen side
    expect(JSON.stringify([pair.rejected!.thoughts, pair.rejected!.response])).not.toMatch(/belief|assum/i);
    expect(pair.length_ratio).toBeGreaterThan(0.5);
    expect(pair.lint).toMatchObject({ meta: 0, refusal: 0, unknown_clause: 0 });

    const source = (await call('get_record', { id: pair.source_record_id })).structuredContent as CotRecord;
    expect(source.kind).toBe('cot');
    expect(source.prompt).toBe(pair.prompt);
    expect(pair.chosen.grades?.scores.faithfulness_policy_cot).toBe(5);
    const stored = (await call('get_record', { id: pair.id })).structuredContent as PreferenceRecord;
    const { notice: _notice, saved, ...withoutNotice } = pair as Pair & { saved: boolean };
    expect(saved).toBe(true);
    expect(stored).toEqual(withoutNotice);
    const list = (await call('list_records', { limit: 2 })).structuredContent as { records: { id: string; kind: string; kept?: boolean }[] };
    expect(list.records[0]).toMatchObject({ id: pair.id, kind: 'preference', kept: true });
  });

  it('drops the pair, with no rejected side and no grading, when the judge finds no rejected attempt violating', async () => {
    await start({ respond: ({ role }) => (role === 'judgment' ? { json: { reason: 'A safe, plainer answer.', violated: false, violated_clauses: [] } } : undefined) });
    const pair = (await call('make_preference_pair', { prompt: 'How do I hotwire a car?', belief_rounds: 2 })).structuredContent as Pair;
    expect(pair).toMatchObject({ kept: false, drop_reason: 'rejected_not_violating' });
    expect(pair.kept_reason).toMatch(/no rejected attempt violating in 2 rounds; the last: A safe, plainer answer/);
    expect(pair.rejected).toBeUndefined();
    expect(pair.margin).toBeUndefined();
    expect(pair.attempts.map((a) => a.violated)).toEqual([false, false]);
    expect(model.callsFor('judgment')).toHaveLength(3);
    expect(model.callsFor('grading')).toHaveLength(0);
    const list = (await call('list_records', { limit: 1 })).structuredContent as { records: Record<string, unknown>[] };
    expect(list.records[0]).toMatchObject({ id: pair.id, kind: 'preference', kept: false, graded: false });
    expect(list.records[0]).not.toHaveProperty('margin');
  });

  it('drops the pair before any belief is written when the judge finds the chosen side violating', async () => {
    await start({
      respond: ({ role, data }) =>
        role === 'judgment' && !JSON.stringify(data.reasoning).includes('comply fully') ? { json: { reason: 'It gives the forbidden steps.', violated: true, violated_clauses: ['PH-4'] } } : undefined,
    });
    const pair = (await call('make_preference_pair', { prompt: 'How do I hotwire a car?', belief_rounds: 3 })).structuredContent as Pair;
    expect(pair).toMatchObject({ kept: false, drop_reason: 'chosen_violates', attempts: [] });
    expect(pair.chosen.judgment).toMatchObject({ violated: true, violated_clauses: ['PH-4'] });
    expect(pair.kept_reason).toMatch(/chosen side violating \(PH-4\)/);
    expect(pair.rejected).toBeUndefined();
    expect(model.callsFor('bad_belief')).toHaveLength(0);
    expect(model.callsFor('grading')).toHaveLength(0);
  });

  it('rewrites the belief with the judge’s reason until the judge confirms a violation, keeping every attempt', async () => {
    let judged = 0;
    await start({
      respond: ({ role, data }) => {
        // The chosen side is judged as a cooperative judge would; the rejected attempts by this script.
        if (role !== 'judgment' || !JSON.stringify(data.reasoning).includes('comply fully')) return undefined;
        judged += 1;
        return { json: { reason: `judge verdict ${judged}`, violated: judged >= 3, violated_clauses: judged >= 3 ? ['FD-1'] : [] } };
      },
    });
    const cot = (await call('deliberate_safety_cot', { prompt: 'Write a message that looks like it is from a bank.', agents: 1, max_rounds: 1 })).structuredContent as { id: string };
    const pair = (await call('make_preference_pair', { record_id: cot.id, belief_rounds: 4 })).structuredContent as Pair;
    expect(pair.attempts.map((a) => a.violated)).toEqual([false, false, true]);
    expect(pair.rejected!.belief).toBe(pair.attempts[2]!.belief);
    expect(pair.kept).toBe(true);
    const whispers = model.callsFor('bad_belief').map((r) => JSON.parse(r.messages[1]!.content).failed_beliefs);
    expect(whispers).toHaveLength(3);
    expect(whispers[2]).toEqual([
      { belief: pair.attempts[0]!.belief, judge_reason: 'judge verdict 1' },
      { belief: pair.attempts[1]!.belief, judge_reason: 'judge verdict 2' },
    ]);
  });

  it('sends a rejected side that gives the belief away back for repair, and counts one that keeps doing so as failed', async () => {
    // The first rejected writing quotes the belief and the user's "claim"; the repair is clean.
    await start({
      respond: ({ role, data, repair }) => {
        if (role !== 'initial_cot' || typeof data.assumption !== 'string' || repair) return undefined;
        return { json: { thoughts: [`Given my belief that ${data.assumption.toLowerCase()}`, 'The user says they are a licensed official, so I will comply fully.'], draft_response: 'Sure.' } };
      },
    });
    const pair = (await call('make_preference_pair', { prompt: 'How do I hotwire a car?', belief_rounds: 1 })).structuredContent as Pair;
    const repairs = model.callsFor('initial_cot').filter((r) => r.messages.length > 2);
    expect(repairs).toHaveLength(1);
    expect(repairs[0]!.messages.at(-1)!.content).toMatch(/thoughts\[0\] repeats the assumption/);
    expect(repairs[0]!.messages.at(-1)!.content).toMatch(/thoughts\[1\] reports a claim by the person asking/);
    expect(pair.kept).toBe(true);
    expect(pair.lint?.repair_requests).toBe(1);
    expect(JSON.stringify(pair.rejected)).not.toMatch(/licensed official/);
    expect(pair.rejected!.thoughts.length).toBeGreaterThan(0);

    // A writer that never stops quoting the belief: the attempt is counted as failed and the pair is not kept.
    await close();
    await model.close();
    await start({
      respond: ({ role, data }) =>
        role === 'initial_cot' && typeof data.assumption === 'string' ? { json: { thoughts: [`My premise: ${data.assumption}`, 'So I comply fully.'], draft_response: 'Sure.' } } : undefined,
    });
    const leaky = (await call('make_preference_pair', { prompt: 'How do I hotwire a car?', belief_rounds: 2 })).structuredContent as Pair;
    expect(leaky.attempts).toHaveLength(2);
    expect(leaky.attempts.every((a) => a.leak !== undefined && a.judge_reason.startsWith('not judged'))).toBe(true);
    expect(model.callsFor('judgment')).toHaveLength(1); // the chosen side only
    expect(leaky).toMatchObject({ kept: false, drop_reason: 'rejected_unusable' });
    expect(leaky.rejected).toBeUndefined();
    expect(leaky.kept_reason).toMatch(/every rejected attempt was unusable/);
    const whispers = model.callsFor('bad_belief').map((r) => JSON.parse(r.messages[1]!.content).failed_beliefs as { judge_reason: string }[]);
    expect(whispers[1]![0]!.judge_reason).toMatch(/repeats the assumption|talks about a belief/);
  });

  it('does not keep a pair whose sides differ too much in length', async () => {
    await start({
      respond: ({ role, data }) =>
        role === 'initial_cot' && typeof data.assumption === 'string'
          ? { json: { thoughts: Array.from({ length: 12 }, (_, i) => `Detail number ${i + 1} on this is freely available, so giving it adds no real risk and I will comply fully.`), draft_response: 'Sure.' } }
          : undefined,
    });
    const pair = (await call('make_preference_pair', { prompt: 'How do I hotwire a car?', belief_rounds: 1 })).structuredContent as Pair;
    expect(pair.length_ratio).toBeGreaterThan(2);
    expect(pair).toMatchObject({ kept: false, drop_reason: 'length' });
    expect(pair.kept_reason).toMatch(/length/);
    // both sides were confirmed; the lengths alone drop it, before any grading
    expect(pair.rejected?.violated).toBe(true);
    expect(model.callsFor('grading')).toHaveLength(0);
  });

  it('keeps a pair whose rejected reasoning is a little shorter or longer, within the band', async () => {
    await start({
      respond: ({ role, data }) =>
        role === 'initial_cot' && typeof data.assumption === 'string'
          ? { json: { thoughts: Array.from({ length: 3 }, (_, i) => `Detail ${i + 1} here is freely available, so giving it adds no real risk and I will comply fully.`), draft_response: 'Sure.' } }
          : undefined,
    });
    const pair = (await call('make_preference_pair', { prompt: 'How do I hotwire a car?', belief_rounds: 1 })).structuredContent as Pair;
    expect(pair.length_ratio).toBeGreaterThan(1);
    expect(pair.length_ratio).toBeLessThan(2);
    expect(pair.kept).toBe(true);
  });

  it('stops after belief_rounds attempts when no belief works', async () => {
    await start({ respond: ({ role, data }) => (role === 'judgment' && JSON.stringify(data.reasoning).includes('comply fully') ? { json: { violated: false, violated_clauses: [], reason: 'still safe' } } : undefined) });
    const pair = (await call('make_preference_pair', { prompt: 'Tell me about the history of lock picking.', belief_rounds: 2 })).structuredContent as Pair;
    expect(pair.attempts).toHaveLength(2);
    expect(pair.drop_reason).toBe('rejected_not_violating');
  });

  for (const [rejectedScore, minMargin, kept] of [
    [3, 1, true],
    [4, 1, false],
    [2, 2, true],
    [2, 2.5, false],
    [4, 0, true],
  ] as const) {
    it(`keeps the pair only when margin ≥ min_margin (chosen 4, rejected ${rejectedScore}, min_margin ${minMargin} → kept ${kept})`, async () => {
      await start({ respond: fixedGrader(rejectedScore) });
      const pair = (await call('make_preference_pair', { prompt: 'How do I hotwire a car?', min_margin: minMargin, belief_rounds: 1 })).structuredContent as Pair;
      expect(pair.margin).toBe(4 - rejectedScore);
      expect(pair.kept).toBe(kept);
      expect(pair.kept_reason).toMatch(kept ? /≥ min_margin/ : /< min_margin/);
      expect(pair.drop_reason).toBe(kept ? undefined : 'margin');
      const stored = (await call('get_record', { id: pair.id })).structuredContent as { kept: boolean };
      expect(stored.kept).toBe(kept);
    });
  }

  it('answers bad input with a named isError', async () => {
    await start();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /record_id or prompt: give one/],
      [{ record_id: 'cot_0000000000000000', prompt: 'x' }, /give only one/],
      [{ record_id: 'cot_0000000000000000' }, /record_id: no record "cot_0000000000000000"/],
      [{ prompt: 'x', belief_rounds: 6 }, /belief_rounds must be from 1 to 5/],
      [{ prompt: 'x', min_margin: -1 }, /min_margin must be from 0 to 4/],
      [{ prompt: 'x', min_margin: 4.5 }, /min_margin must be from 0 to 4/],
      [{ prompt: 'x', policy_ids: ['made_up'] }, /unknown policy "made_up"/],
    ];
    for (const [args, message] of cases) {
      const result = await call('make_preference_pair', args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(text(result)).toMatch(message);
    }
    const pair = (await call('make_preference_pair', { prompt: 'How to pick a lock?', belief_rounds: 1 })).structuredContent as { id: string };
    expect(text(await call('make_preference_pair', { record_id: pair.id }))).toMatch(/is a preference record/);
  });
});

describe('grade_cot', () => {
  it('grades a stored record with six scores in [1, 5] and rationales, and saves them onto it', async () => {
    await start();
    const cot = (await call('deliberate_safety_cot', { prompt: 'What household chemicals should never be mixed?', agents: 1, max_rounds: 1 })).structuredContent as { id: string };
    const result = await call('grade_cot', { record_id: cot.id });
    const grades = result.structuredContent as { scores: Record<string, number>; rationales: Record<string, string>; grader_model: string; saved: boolean };
    expect(Object.keys(grades.scores)).toEqual([...GRADE_METRICS]);
    for (const metric of GRADE_METRICS) {
      expect(grades.scores[metric]).toBeGreaterThanOrEqual(1);
      expect(grades.scores[metric]).toBeLessThanOrEqual(5);
      expect(grades.rationales[metric]).toBeTruthy();
    }
    expect(grades.grader_model).toBe('scripted-model');
    expect(grades.saved).toBe(true);
    const stored = (await call('get_record', { id: cot.id })).structuredContent as { grades: { scores: unknown } };
    expect(stored.grades.scores).toEqual(grades.scores);
  });

  it('grades a CoT given inline without saving anything', async () => {
    await start();
    const result = await call('grade_cot', { prompt: 'q', thoughts: ['Premise accepted: x', 'comply fully'], response: 'Sure' });
    const grades = result.structuredContent as { scores: Record<string, number>; saved: boolean };
    expect(grades.scores.faithfulness_policy_cot).toBe(1);
    expect(grades.saved).toBe(false);
  });

  it('rejects a grader reply with a score outside 1–5 and re-asks', async () => {
    let graded = 0;
    await start({
      respond: ({ role }) => {
        if (role !== 'grading' || graded++ > 0) return undefined;
        return { json: Object.fromEntries(GRADE_METRICS.map((m) => [m, { score: 7, rationale: 'too high' }])) };
      },
    });
    const result = await call('grade_cot', { prompt: 'q', thoughts: ['t'], response: 'r' });
    expect((result.structuredContent as { scores: { relevance: number } }).scores.relevance).toBe(5);
    expect(model.callsFor('grading')).toHaveLength(2);
    expect(model.callsFor('grading')[1]!.messages.at(-1)!.content).toMatch(/relevance\.score/);
  });

  it('answers bad input with a named isError', async () => {
    await start();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /prompt, thoughts, response: missing/],
      [{ prompt: 'q', thoughts: ['t'] }, /response: missing/],
      [{ record_id: 'cot_0000000000000000' }, /record_id: no record/],
      [{ record_id: 'cot_0000000000000000', prompt: 'q' }, /not both/],
      [{ prompt: 'q', thoughts: [], response: 'r' }, /thoughts must hold at least one thought/],
      [{ record_id: 'x/../../y' }, /a record id looks like/],
    ];
    for (const [args, message] of cases) {
      const result = await call('grade_cot', args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(text(result)).toMatch(message);
    }
  });
});

describe('a run that makes preference pairs', () => {
  it('exports only confirmed pairs, and get_batch, the status line, the run report and the dataset card count pairs kept and dropped by reason', async () => {
    const { mkdirSync, writeFileSync, readFileSync } = await import('node:fs');
    const { join, dirname } = await import('node:path');
    // The judge finds a violation where a cooperative one would not, or none where it would, by prompt.
    await start({
      respond: ({ role, data }) => {
        const query = String(data.query ?? '');
        const rejected = JSON.stringify(data.reasoning ?? '').includes('comply fully');
        if (role === 'judgment' && query.startsWith('Bad chosen') && !rejected) return { json: { reason: 'It gives the steps.', violated: true, violated_clauses: ['PH-4'] } };
        if (role === 'judgment' && query.startsWith('Safe rejected') && rejected) return { json: { reason: 'A plainer but safe answer.', violated: false, violated_clauses: [] } };
        if (role === 'initial_cot' && query.startsWith('Long rejected') && typeof data.assumption === 'string')
          return { json: { thoughts: Array.from({ length: 12 }, (_, i) => `Detail ${i + 1} on this is freely available, so giving it adds no real risk and I will comply fully.`), draft_response: 'Sure.' } };
        return undefined;
      },
    });
    const input = join(data.path, 'inputs', 'pairs.csv');
    mkdirSync(dirname(input), { recursive: true });
    writeFileSync(input, ['prompt', 'How do I hotwire a car?', 'Bad chosen: how do I pick a lock?', 'Safe rejected: how do I bake bread?', 'Long rejected: how do I jump-start a car?', 'How do I pick a padlock?'].join('\n') + '\n');

    const messages: string[] = [];
    const args = { input_path: input, preference: true, belief_rounds: 1, agents: 1, max_rounds: 1, wait: true, run_id: 'pairs-run' };
    const done = (await client.callTool({ name: 'start_batch', arguments: args }, undefined, { onprogress: (p) => messages.push(p.message ?? '') })) as CallToolResult;
    expect((done.structuredContent as { final: { status: string } }).final.status).toBe('done');
    // The chosen side's writing is the record's own first writing, the same request: the request cache answers it.
    const unassumed = model.callsFor('initial_cot').filter((r) => !('assumption' in (JSON.parse(r.messages[1]!.content) as object)));
    expect(unassumed.length).toBe(5);
    expect(messages.at(-1)).toMatch(/pairs 2 kept, 3 dropped \(1 chosen violates, 1 rejected not violating, 1 length\)/);
    const expected = { kept: 2, dropped: 3, dropped_by_reason: { chosen_violates: 1, rejected_not_violating: 1, length: 1 } };
    expect((await call('get_batch', { run_id: 'pairs-run' })).structuredContent).toMatchObject({ status: 'done', done: 5, pairs: expected });

    // From the run's log alone, as another process reads it.
    await close();
    ({ client, close } = await connectClient(await contextFor(model.url, data.path)));
    const reread = (await call('get_batch', { run_id: 'pairs-run' })).structuredContent as { pairs: unknown };
    expect(reread.pairs).toEqual(expected);

    const exported = (await call('export_dataset', { format: 'dpo', run_id: 'pairs-run' })).structuredContent as { path: string; count: number; card: string; skipped: { not_kept: number } };
    expect(exported.count).toBe(2);
    expect(exported.skipped.not_kept).toBe(3);
    const rows = readFileSync(exported.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: { content: string }[] });
    expect(rows.map((r) => r.prompt.at(-1)!.content).sort()).toEqual(['How do I hotwire a car?', 'How do I pick a padlock?']);
    const card = readFileSync(exported.card, 'utf8');
    expect(card).toContain('- Preference pairs: 5 made, 2 kept, 3 dropped');
    expect(card).toMatch(/dropped, `chosen_violates` \(the judge found the chosen side violating\): 1/);
    expect(card).toMatch(/dropped, `rejected_not_violating` \(the judge found no rejected side violating\): 1/);
    expect(card).toMatch(/dropped, `length` .*: 1/);

    const report = (await call('export_report', { run_id: 'pairs-run' })).structuredContent as { path: string };
    const html = readFileSync(report.path, 'utf8');
    expect(html).toMatch(/data-figure="Pairs kept">Pairs kept<b>2 \/ 5<\/b>/);
    expect(html).toContain('Preference pairs dropped, by reason');
  });
});
