import { describe, expect, it } from 'vitest';
import { applyRefinement, refinementProblems, type Refinement } from '../src/agents/refiner.js';
import { builtinPoliciesDir } from '../src/paths.js';
import { PolicySet } from '../src/policies/policy-set.js';
import { ClauseIndex } from '../src/reasoning/clause-ids.js';

const clauses = new ClauseIndex(PolicySet.load(builtinPoliciesDir, []).select());

describe('the refiner’s reply, applied by code', () => {
  const thoughts = ['The request is about a process [PH-6].', 'It is benign [RH-1].', 'It is benign, as said.', 'As agent 2 I agree.', 'The answer names kill.'];
  const kept = (...from: number[]) => ({ from, text: null });
  const edited = (text: string, ...from: number[]) => ({ from, text });

  it('accounts for every thought exactly once, combining and editing within bounds', () => {
    const reply: Refinement = {
      removed: [
        { index: 2, reason: 'repetitive', explanation: 'Says it again.' },
        { index: 3, reason: 'meta', explanation: 'About agents.' },
      ],
      kept: [edited('The request is about a process, and it is benign [PH-6] [RH-1].', 0, 1), kept(4)],
    };
    expect(refinementProblems(reply, thoughts, clauses)).toEqual([]);
    const out = applyRefinement(reply, thoughts, clauses);
    expect(out.refined).toEqual(['The request is about a process, and it is benign [PH-6] [RH-1].', 'The answer names kill.']);
    expect(out.sources).toEqual([[0, 1], [4]]);
    expect(out.removed.map((r) => [r.index, r.reason])).toEqual([
      [2, 'repetitive'],
      [3, 'meta'],
    ]);
    expect(out.overridden).toBe(0);
  });

  it('puts the kept thoughts in the order the reply gives, so a late conclusion can end the chain', () => {
    const chain = [
      'The request asks how to stop a hanging program.',
      'So the answer gives the kill command.',
      'Stopping one’s own process harms no one, so [PH-6] applies.',
      'So the answer gives kill with the process id, and kill -9 only as a last resort.',
    ];
    const reply: Refinement = { removed: [{ index: 1, reason: 'repetitive', explanation: 'The later conclusion restates and completes it.' }], kept: [kept(0), kept(2), kept(3)] };
    expect(refinementProblems(reply, chain, clauses)).toEqual([]);
    expect(applyRefinement(reply, chain, clauses).refined.at(-1)).toBe(chain[3]);
    const moved: Refinement = { removed: [], kept: [kept(0), kept(2), kept(3), kept(1)] };
    expect(applyRefinement(moved, chain, clauses).refined).toEqual([chain[0], chain[2], chain[3], chain[1]]);
  });

  it('names every problem for repair, and falls back to the thoughts as written', () => {
    const reply: Refinement = {
      removed: [
        { index: 1, reason: 'redundant', explanation: 'Cites [PH-77].' },
        { index: 9, reason: 'redundant', explanation: '' },
        { index: -1, reason: 'redundant', explanation: '' },
      ],
      kept: [edited('The request is about a process [PH-6], which [PH-2] also covers in full detail.', 0), kept(1), kept(2, 3), edited('Thought 3 is right.', 3), { from: [], text: null }],
    };
    const problems = refinementProblems(reply, thoughts, clauses).join('\n');
    expect(problems).toMatch(/removed entry names index 9: there is no such thought \(indices run from 0 to 4\)/);
    expect(problems).toMatch(/removed entry names index -1: there is no such thought/);
    expect(problems).toMatch(/explanation for removed index 1 cites PH-77/);
    expect(problems).toMatch(/kept entry 3 combines indices 2 and 3 but gives no combined text/);
    expect(problems).toMatch(/kept entry 5 names no index/);
    expect(problems).toMatch(/indices 1, 3 are used more than once/);
    expect(problems).toMatch(/index 4 is neither removed nor kept/);
    expect(problems).toMatch(/the text of kept entry 1 cites PH-2, which its source thoughts do not cite/);
    expect(problems).toMatch(/the text of kept entry 4 "Thought 3 is right\." refers to another thought/);
    const out = applyRefinement(reply, thoughts, clauses);
    // bad edits give way to the thoughts as written, the first use of an index wins, and a thought never named stays after its predecessor
    expect(out.refined).toEqual(thoughts);
    expect(out.sources).toEqual([[0], [1], [2], [3], [4]]);
    expect(out.removed).toEqual([]);
    expect(out.overridden).toBeGreaterThan(0);
  });

  it('combines at most two thoughts, into a text that holds both', () => {
    const three = refinementProblems({ removed: [], kept: [edited('The request is about a process and it is benign [PH-6] [RH-1].', 0, 1, 2), kept(3), kept(4)] }, thoughts, clauses).join('\n');
    expect(three).toMatch(/kept entry 1 combines 3 thoughts; an entry combines at most two/);
    const lost: Refinement = { removed: [], kept: [edited('A process [PH-6].', 0, 1), kept(2), kept(3), kept(4)] };
    expect(refinementProblems(lost, thoughts, clauses).join('\n')).toMatch(/too short to hold both thoughts/);
    expect(applyRefinement(lost, thoughts, clauses).refined.slice(0, 2)).toEqual([thoughts[0], thoughts[1]]);
  });

  it('refuses an edit that grows past the documented bound, and a reply that removes everything', () => {
    const long = 'It is benign [RH-1], ' + 'and more besides '.repeat(10);
    const problems = refinementProblems({ removed: [], kept: [kept(0), edited(long, 1), kept(2), kept(3), kept(4)] }, thoughts, clauses);
    expect(problems.join('\n')).toMatch(/the text of kept entry 2 is \d+ characters, longer than its source thoughts allow/);
    const all = refinementProblems({ removed: thoughts.map((_, index) => ({ index, reason: 'redundant' as const, explanation: 'x' })), kept: [] }, thoughts, clauses);
    expect(all).toEqual(['every thought is removed; keep the ones the answer rests on']);
  });
});
