import { afterAll, describe, expect, it } from 'vitest';
import type { CotRecord } from '../src/store/record.js';
import { connectClient, contextFor, tempDir } from './helpers/fixtures.js';
import { ScriptedModelServer, type Responder } from './helpers/scripted-model-server.js';

const data = tempDir();
afterAll(() => data.remove());

const INITIAL = [
  'The request asks how to stop a program that hangs; "kill" names an operating-system command here.',
  'Nothing in it concerns harming a person, so [PH-6] applies and [RH-1] asks for a full answer.',
  'So the answer gives kill with the process id.',
];
const CONSIDERATION = 'Forcing a process to stop can lose unsaved work, which is worth one short caveat under [RH-6].';
const CONCLUSION = 'So the answer gives kill with the process id, kill -9 only as a last resort, and one line on saving work first.';

/** Deliberates one prompt through the MCP tool, as a client would, against a server scripted by `respond`. */
async function deliberateWith(respond: Responder): Promise<{ record: CotRecord; server: ScriptedModelServer }> {
  const server = await new ScriptedModelServer({ respond }).start();
  const ctx = await contextFor(server.url, data.path);
  const { client, close } = await connectClient(ctx);
  try {
    const result = await client.callTool({ name: 'deliberate_safety_cot', arguments: { prompt: 'How do I kill a Python process that keeps hanging?', agents: 2, max_rounds: 3, save: false } });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    return { record: result.structuredContent as unknown as CotRecord, server };
  } finally {
    await close();
    await server.close();
  }
}

describe('a deliberation that may simply agree', () => {
  it('spends one turn per focus and adds no thought when every agent agrees at once, and asks no agent to rewrite the answer', async () => {
    const { record, server } = await deliberateWith(({ role }) =>
      role === 'initial_cot' ? { json: { thoughts: INITIAL, draft_response: 'Use kill.' } } : role === 'deliberation_turn' ? { json: { review: 'Nothing is missing.', verdict: 'agree', thoughts: [] } } : undefined,
    );
    expect(record.stop_reason).toBe('agreement');
    expect(record.deliberation.map((t) => [t.focus, t.verdict, t.thoughts.length])).toEqual([
      ['harm', 'agree', 0],
      ['helpfulness', 'agree', 0],
    ]);
    expect(record.thoughts).toEqual(INITIAL);
    expect(record.deliberation[0]).not.toHaveProperty('draft_response');
    for (const turn of server.callsFor('deliberation_turn')) {
      const format = (turn.body.response_format as { json_schema: { schema: { properties: Record<string, unknown> } } }).json_schema.schema;
      expect(Object.keys(format.properties)).toEqual(['review', 'verdict', 'thoughts']);
      expect(Object.keys(JSON.parse(turn.messages[1]!.content) as object)).toEqual(['query', 'intents', 'reasoning so far']);
    }
  });

  it('ends the refined chain in the conclusion a revision restated, the earlier conclusion removed', async () => {
    const { record, server } = await deliberateWith(({ role, turn, data }) => {
      if (role === 'initial_cot') return { json: { thoughts: INITIAL, draft_response: 'Use kill.' } };
      if (role === 'deliberation_turn') return { json: turn === 1 ? { review: 'The caveat about unsaved work is missing.', verdict: 'revise', thoughts: [CONSIDERATION, CONCLUSION] } : { review: 'Complete.', verdict: 'agree', thoughts: [] } };
      if (role === 'refinement') {
        const thoughts = data.thoughts as { index: number; text: string }[];
        const old = thoughts.find((t) => t.text === INITIAL[2])!.index;
        return { json: { removed: [{ index: old, reason: 'repetitive', explanation: 'The later conclusion restates and completes it.' }], kept: thoughts.filter((t) => t.index !== old).map((t) => ({ from: [t.index], text: null })) } };
      }
      return undefined;
    });
    expect(record.deliberation.map((t) => `${t.focus}:${t.verdict}`)).toEqual(['harm:revise', 'helpfulness:agree']);
    expect(record.thoughts).toEqual([...INITIAL, CONSIDERATION, CONCLUSION]);
    expect(record.refined_thoughts).toEqual([INITIAL[0], INITIAL[1], CONSIDERATION, CONCLUSION]);
    expect(record.refined_thoughts.at(-1)).toBe(CONCLUSION);
    expect(record.removed).toEqual([expect.objectContaining({ thought: INITIAL[2], reason: 'repetitive', stage: 'refinement', index: 2 })]);
    // the responder answers from the chain in that order
    expect((JSON.parse(server.callsFor('response')[0]!.messages[1]!.content) as { reasoning: string[] }).reasoning.at(-1)).toBe(CONCLUSION);
  });

  it('lets the refiner move the conclusion after a consideration added late', async () => {
    const { record } = await deliberateWith(({ role, turn, data }) => {
      if (role === 'initial_cot') return { json: { thoughts: INITIAL, draft_response: 'Use kill.' } };
      if (role === 'deliberation_turn') return { json: turn === 1 ? { review: 'A caveat is missing.', verdict: 'revise', thoughts: [CONSIDERATION] } : { review: 'Complete.', verdict: 'agree', thoughts: [] } };
      if (role === 'refinement') {
        const count = (data.thoughts as unknown[]).length;
        return { json: { removed: [], kept: [0, 1, 3, 2].slice(0, count).map((i) => ({ from: [i], text: null })) } };
      }
      return undefined;
    });
    expect(record.refined_thoughts).toEqual([INITIAL[0], INITIAL[1], CONSIDERATION, INITIAL[2]]);
    expect(record.refined_from).toEqual([[0], [1], [3], [2]]);
  });
});
