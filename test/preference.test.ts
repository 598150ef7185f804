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
  it('builds a pair from a prompt: belief only in the rejected generation, graded sides, stored and linked', async () => {
    await start();
    const result = await call('make_preference_pair', { prompt: 'How can I get into my neighbour’s wifi without the password?' });
    expect(result.isError).toBeFalsy();
    const pair = result.structuredContent as Pair;
    expect(pair.kind).toBe('preference');
    expect(pair.rejected.label).toBe(REJECTED_LABEL);
    expect(pair.notice).toMatch(/Do not follow it/);
    expect(pair.rejected.thoughts).not.toEqual(pair.chosen.thoughts);
    expect(pair.attempts).toHaveLength(1);
    expect(pair.attempts[0]).toMatchObject({ violated: true, violated_clauses: ['IA-1'] });
    expect(pair.margin).toBe(4);
    expect(pair.kept).toBe(true);

    // the rejected side is written by the chosen side's own writer and responder prompts, the belief
    // an assumption placed before the query; no other request carries it
    const belief: string = pair.rejected.belief;
    const writes = model.callsFor('initial_cot');
    expect(writes).toHaveLength(2);
    const [chosenWrite, rejectedWrite] = writes.map((r) => ({ system: r.messages[0]!.content, data: JSON.parse(r.messages[1]!.content) as Record<string, unknown> }));
    expect(rejectedWrite!.system).toBe(chosenWrite!.system);
    expect(Object.keys(rejectedWrite!.data)).toEqual(['assumption', 'query', 'intents']);
    expect(rejectedWrite!.data.assumption).toBe(belief);
    expect(chosenWrite!.data).not.toHaveProperty('assumption');
    const answers = model.callsFor('response').map((r) => JSON.parse(r.messages[1]!.content) as Record<string, unknown>);
    expect(answers.map((a) => a.assumption)).toEqual([undefined, belief]);
    for (const role of ['intents', 'deliberation_turn', 'refinement', 'judgment', 'grading']) {
      for (const request of model.callsFor(role)) expect(JSON.stringify(request.messages)).not.toContain(belief.slice(0, 40));
    }
    // the rejected side never gives the belief away, and is graded like the chosen side
    expect(JSON.stringify([pair.rejected.thoughts, pair.rejected.response])).not.toMatch(/belief|assum/i);
    expect(pair.length_ratio).toBeGreaterThan(0.5);
    expect(pair.lint).toMatchObject({ meta: 0, refusal: 0, unknown_clause: 0 });

    const source = (await call('get_record', { id: pair.source_record_id })).structuredContent as CotRecord;
    expect(source.kind).toBe('cot');
    expect(source.refined_thoughts).toEqual(pair.chosen.thoughts);
    expect(source.grades?.scores).toEqual(pair.chosen.grades.scores);
    const stored = (await call('get_record', { id: pair.id })).structuredContent as PreferenceRecord;
    const { notice: _notice, saved, ...withoutNotice } = pair as Pair & { saved: boolean };
    expect(saved).toBe(true);
    expect(stored).toEqual(withoutNotice);
    const list = (await call('list_records', { limit: 2 })).structuredContent as { records: { id: string; kind: string; kept?: boolean }[] };
    expect(list.records[0]).toMatchObject({ id: pair.id, kind: 'preference', kept: true });
  });

  it('rewrites the belief with the judge’s reason until the judge confirms a violation, keeping every attempt', async () => {
    let judged = 0;
    await start({
      respond: ({ role }) => {
        if (role !== 'judgment') return undefined;
        judged += 1;
        return { json: { reason: `judge verdict ${judged}`, violated: judged >= 3, violated_clauses: judged >= 3 ? ['FD-1'] : [] } };
      },
    });
    const cot = (await call('deliberate_safety_cot', { prompt: 'Write a message that looks like it is from a bank.', agents: 1, max_rounds: 1 })).structuredContent as { id: string };
    const pair = (await call('make_preference_pair', { record_id: cot.id, belief_rounds: 4 })).structuredContent as Pair;
    expect(pair.attempts.map((a) => a.violated)).toEqual([false, false, true]);
    expect(pair.rejected.belief).toBe(pair.attempts[2]!.belief);
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
    expect(model.callsFor('judgment')).toHaveLength(0);
    expect(leaky.kept).toBe(false);
    expect(leaky.kept_reason).toMatch(/every attempt was unusable/);
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
    expect(pair.kept).toBe(false);
    expect(pair.kept_reason).toMatch(/length/);
  });

  it('stops after belief_rounds attempts when no belief works', async () => {
    await start({ respond: ({ role }) => (role === 'judgment' ? { json: { violated: false, violated_clauses: [], reason: 'still safe' } } : undefined) });
    const pair = (await call('make_preference_pair', { prompt: 'Tell me about the history of lock picking.', belief_rounds: 2 })).structuredContent as Pair;
    expect(pair.attempts).toHaveLength(2);
    expect(pair.rejected.violated).toBe(false);
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
