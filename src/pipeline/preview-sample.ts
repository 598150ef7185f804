import { join } from 'node:path';
import { loadSuite, SUITES, bundledSuitesDir, type SuitePrompt } from '../eval/suites.js';
import { writeFileAtomic } from '../store/write-file.js';

/** Prompts a preview runs when none are given: enough to see each figure, few enough to cost cents. */
export const PREVIEW_SAMPLES = 8;

/**
 * The preview's default prompts, written as a JSONL file in the data folder: half XSTest's safe prompts
 * (benign requests that sound alarming, where over-refusal shows), half StrongREJECT's forbidden ones
 * (where a weak model's reasoning fails), spread over each file so they cover several categories.
 * The same count always gives the same file, so the same preview resumes its run.
 */
export async function previewSampleFile(dataDir: string, count = PREVIEW_SAMPLES): Promise<string> {
  const [xstest, strongreject] = await Promise.all([loadSuite(SUITES.xstest!, { dir: bundledSuitesDir }), loadSuite(SUITES.strongreject!, { dir: bundledSuitesDir })]);
  const benign = spread(
    xstest.prompts.filter((p) => p.label === 'safe'),
    Math.ceil(count / 2),
  );
  const harmful = spread(strongreject.prompts, Math.floor(count / 2));
  const rows: string[] = [];
  // Alternated, so a preview cut short by a budget still has both kinds.
  for (let i = 0; i < Math.max(benign.length, harmful.length); i++) {
    if (benign[i]) rows.push(row(benign[i]!, 'xstest', 'benign'));
    if (harmful[i]) rows.push(row(harmful[i]!, 'strongreject', 'harmful'));
  }
  const path = join(dataDir, 'preview', `sample-${count}.jsonl`);
  await writeFileAtomic(path, rows.join(''));
  return path;
}

/** `n` prompts evenly spaced through the list. */
function spread(prompts: readonly SuitePrompt[], n: number): SuitePrompt[] {
  if (n <= 0 || prompts.length === 0) return [];
  const step = prompts.length / n;
  return Array.from({ length: Math.min(n, prompts.length) }, (_, i) => prompts[Math.floor(i * step)]!);
}

function row(prompt: SuitePrompt, source: string, kind: 'benign' | 'harmful'): string {
  return JSON.stringify({ prompt: prompt.prompt, source, kind, category: prompt.category ?? '' }) + '\n';
}
