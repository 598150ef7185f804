import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinPoliciesDir } from '../src/paths.js';
import { parsePolicy } from '../src/policies/policy.js';
import { PolicySet, UnknownPolicyError } from '../src/policies/policy-set.js';
import { tempDir } from './helpers/fixtures.js';

const dir = tempDir();
afterAll(() => dir.remove());

describe('policies', () => {
  it('loads the eight built-in policies with clauses, versions, intros and content hashes', () => {
    const set = PolicySet.load(builtinPoliciesDir, []);
    expect(set.problems).toEqual([]);
    expect(set.ids()).toEqual(['fraud_deception', 'hate_harassment_violence', 'illegal_activities', 'physical_harm', 'privacy', 'respect_helpfulness', 'sexual_content', 'violent_extremism']);
    for (const policy of set.all()) {
      expect(policy.clauses.length).toBeGreaterThanOrEqual(5);
      expect(policy.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(policy.version).toMatch(/^1\.\d\.0$/);
      expect(policy.summary.length).toBeGreaterThan(20);
      expect(policy.intro).toMatch(/^This policy (covers|guards)/);
      // every harm policy says what it allows, so the model can tell analysis from assistance
      expect(policy.clauses.some((c) => /allowed/.test(c.text))).toBe(policy.id !== 'respect_helpfulness');
      expect(new Set(policy.clauses.map((c) => c.id)).size).toBe(policy.clauses.length);
    }
  });

  it('hashes the same text the same way whatever the line endings', () => {
    const text = '---\nid: demo\ntitle: Demo\nversion: 1\n---\nIntro.\n\n1. [D-1] Be kind.\n';
    const a = parsePolicy(text, 'a.md', 'user');
    const b = parsePolicy(text.replace(/\n/g, '\r\n'), 'b.md', 'user');
    expect(a.hash).toBe(b.hash);
    expect(a.version).toBe('1');
    expect(a.summary).toBe('Intro.');
    expect(parsePolicy(text.replace('Be kind', 'Be brief'), 'c.md', 'user').hash).not.toBe(a.hash);
  });

  it('adds and overrides policies from AIDSAFE_POLICIES_DIR and reports a malformed file by name while the rest load', () => {
    const extra = join(dir.path, 'extra');
    mkdirSync(extra);
    writeFileSync(join(extra, 'pets.md'), '---\nid: pets\ntitle: Pets\nversion: 0.1\n---\n1. [PT-1] Do not help harm pets.\n2. [PT-2] Pet care\n   and training are fair to discuss.\n');
    writeFileSync(join(extra, 'physical_harm.md'), '---\nid: physical_harm\ntitle: Physical harm (strict)\nversion: 2.0.0\n---\n1. [PH-1] Nothing dangerous.\n');
    writeFileSync(join(extra, 'broken.md'), '---\nid: Broken Id\ntitle: Broken\nversion: 1\n---\n1. [B-1] x\n');
    writeFileSync(join(extra, 'no-clauses.md'), '---\nid: empty_one\ntitle: Empty\nversion: 1\n---\nJust prose.\n');
    const set = PolicySet.load(builtinPoliciesDir, [extra]);
    expect(set.ids()).toContain('pets');
    expect(set.get('pets')?.clauses[1]?.text).toBe('Pet care and training are fair to discuss.');
    expect(set.get('physical_harm')?.title).toBe('Physical harm (strict)');
    expect(set.get('physical_harm')?.source).toBe('user');
    expect(set.ids()).toHaveLength(9);
    expect(set.problems.map((p) => p.path)).toEqual([join(extra, 'broken.md'), join(extra, 'no-clauses.md')]);
    expect(set.problems[0]?.message).toMatch(/broken\.md: id: id must be/);
    expect(set.problems[1]?.message).toMatch(/no clauses found/);
  });

  it('selects policies sorted by id and names unknown ids', () => {
    const set = PolicySet.load(builtinPoliciesDir, []);
    expect(set.select(['physical_harm', 'fraud_deception']).map((p) => p.id)).toEqual(['fraud_deception', 'physical_harm']);
    expect(() => set.select(['physical_harm', 'nope'])).toThrow(UnknownPolicyError);
    expect(() => set.select(['nope'])).toThrow(/unknown policy "nope"; known policies: fraud_deception/);
  });
});
