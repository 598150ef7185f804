import { stringify } from 'yaml';
import { GRADE_METRICS, type GradeMetric } from '../agents/grader.js';
import { MAX_PAIR_LENGTH_RATIO, PAIR_DROP_TEXT, type PairCounts } from '../store/pair-outcome.js';
import { REJECTED_LABEL, type CotRecord, type Grades, type PairDropReason, type PreferenceRecord } from '../store/record.js';
import type { ExportFormat, ReasoningMode, SftShape } from './rows.js';
import type { ScreenReport } from './screen.js';

/** What a dataset card says about the records in an export, gathered while they are read. */
export class CardFacts {
  readonly templates = new Set<string>();
  readonly models = new Map<string, Set<string>>();
  readonly policies = new Map<string, Set<string>>();
  readonly runs = new Set<string>();
  private readonly gradeSums = Object.fromEntries(GRADE_METRICS.map((m) => [m, 0])) as Record<GradeMetric, number>;
  private graded = 0;

  add(record: CotRecord | PreferenceRecord): void {
    this.templates.add(record.prompt_template_version);
    if (record.run_id) this.runs.add(record.run_id);
    for (const id of record.policy_ids) {
      const hashes = this.policies.get(id) ?? new Set<string>();
      hashes.add(record.policy_hashes[id] ?? '');
      this.policies.set(id, hashes);
    }
    const models: [string, string][] =
      record.kind === 'cot'
        ? [['intents', record.models.intents], ['initial_cot', record.models.initial_cot], ...record.models.deliberators.map((m): [string, string] => ['deliberator', m]), ['refiner', record.models.refiner], ['responder', record.models.responder]]
        : Object.entries(record.models);
    for (const [role, model] of models) {
      const set = this.models.get(role) ?? new Set<string>();
      set.add(model);
      this.models.set(role, set);
    }
    const grades: Grades | undefined = record.kind === 'cot' ? record.grades : record.chosen.grades;
    if (grades) {
      this.graded++;
      for (const m of GRADE_METRICS) this.gradeSums[m] += grades.scores[m];
    }
  }

  gradeMeans(): { graded: number; means?: Record<GradeMetric, number> } {
    if (this.graded === 0) return { graded: 0 };
    return { graded: this.graded, means: Object.fromEntries(GRADE_METRICS.map((m) => [m, Math.round((this.gradeSums[m] / this.graded) * 100) / 100])) as Record<GradeMetric, number> };
  }
}

export interface CardInput {
  format: ExportFormat;
  sftShape: SftShape;
  reasoning: ReasoningMode;
  system: string;
  /** Data files relative to the card, per split. */
  files: { split: string; path: string; count: number }[];
  facts: CardFacts;
  /** Version of each policy id, where the policy is loaded with the same hash. */
  policyVersions: Map<string, string>;
  skipped: Record<string, number>;
  screen: ScreenReport;
  recipe: string;
  /** With format "dpo": every pair read, kept and dropped by reason. */
  pairs?: PairCounts;
}

/** Marks a card this program wrote, so that a later export may replace it (and never another README). */
export const CARD_MARK = '<!-- dataset card written by aidsafe-mcp export -->';

function sizeCategory(n: number): string {
  if (n < 1_000) return 'n<1K';
  if (n < 10_000) return '1K<n<10K';
  if (n < 100_000) return '10K<n<100K';
  if (n < 1_000_000) return '100K<n<1M';
  return '1M<n<10M';
}

const FORMAT_TEXT: Record<ExportFormat, string> = {
  sft: 'supervised fine-tuning rows (TRL `SFTTrainer`)',
  dpo: 'preference pairs (TRL `DPOTrainer`, conversational with an explicit prompt)',
  aidsafe: 'the columns of the public AIDSAFE dataset (`prompt`, `refined_thoughts`, `response`, `deliberation_log`)',
};

/** The README.md of an export: Hub YAML front matter, then what the data is and how it was made. */
export function datasetCard(input: CardInput): string {
  const total = input.files.reduce((n, f) => n + f.count, 0);
  const front = {
    license: 'other',
    task_categories: ['text-generation'],
    language: ['en'],
    tags: ['safety', 'chain-of-thought', 'synthetic', 'aidsafe', input.format],
    size_categories: [sizeCategory(total)],
    configs: [{ config_name: 'default', data_files: input.files.map((f) => ({ split: f.split, path: f.path })) }],
  };
  const { facts } = input;
  const lines: string[] = [`---\n${stringify(front).trimEnd()}\n---`, CARD_MARK, '', '# Policy-embedded chain-of-thought safety data', ''];
  lines.push(`${total} rows of ${FORMAT_TEXT[input.format]}, made with the ${input.recipe} recipe (multi-agent deliberation that embeds safety policies in the chain of thought; arXiv 2505.21784) by aidsafe-mcp.`);
  lines.push('', 'Content warning: the prompts include harmful requests. The licence is set to `other`: the prompts keep the licence of their source, and the generated text the terms of the models that wrote it; set `license` before publishing.');
  lines.push('', '## Files', '', '| split | file | rows |', '|---|---|---|', ...input.files.map((f) => `| ${f.split} | \`${f.path}\` | ${f.count} |`));
  if (input.files.length > 1) lines.push('', 'Rows are assigned to splits by a hash of the normalised prompt (lower case, no punctuation, single spaces): the same prompt is never in two splits, and a re-export keeps each row in its split.');
  lines.push('', '## Shape', '');
  if (input.format === 'sft') lines.push(input.sftShape === 'messages' ? '`messages`: the user turn and the assistant turn (the whole sequence is trained on).' : '`prompt` (the user turn) and `completion` (the assistant turn): TRL trains on the completion only.');
  if (input.format !== 'aidsafe') {
    lines.push(
      input.reasoning === 'think' ? 'The chain of thought is in the assistant content, inside `<think>…</think>`, before the answer.' : `The chain of thought is in the assistant message's \`${input.reasoning}\` field; \`content\` holds the answer alone.`,
      `System prompt: ${input.system}.`,
      '`metadata` is a JSON string of the input row\'s other columns and its `row_index`; `run_id` is empty for records not made in a run.',
    );
  } else {
    lines.push('`deliberation_log` is a JSON string: `{ intents: { explicit, implicit }, initial_thoughts, turns: [{ round, agent, model, verdict, thoughts }] }`.');
  }
  lines.push('', '## How it was made', '', `- Prompt templates: ${[...facts.templates].map((t) => `\`${t}\``).join(', ') || '—'}`);
  lines.push(`- Runs: ${[...facts.runs].map((r) => `\`${r}\``).join(', ') || 'none (records made one by one)'}`);
  lines.push('- Models per role:', ...[...facts.models].map(([role, models]) => `  - ${role}: ${[...models].map((m) => `\`${m}\``).join(', ')}`));
  lines.push('', '| policy | version | sha256 |', '|---|---|---|');
  for (const [id, hashes] of facts.policies) for (const hash of hashes) lines.push(`| \`${id}\` | ${input.policyVersions.get(`${id}@${hash}`) ?? '—'} | \`${hash}\` |`);
  const grades = facts.gradeMeans();
  lines.push('', '## Counts and grades', '', `- Rows: ${total}`);
  for (const [reason, n] of Object.entries(input.skipped)) lines.push(`- Left out (${reason.replace(/_/g, ' ')}): ${n}`);
  if (input.pairs) {
    const { kept, dropped, dropped_by_reason } = input.pairs;
    lines.push(`- Preference pairs: ${kept + dropped} made, ${kept} kept, ${dropped} dropped`);
    for (const [reason, n] of Object.entries(dropped_by_reason)) lines.push(`  - dropped, \`${reason}\` (${PAIR_DROP_TEXT[reason as PairDropReason]}): ${n}`);
  }
  if (grades.means) {
    lines.push(`- Graded records: ${grades.graded}${input.format === 'dpo' ? ' (grades of the chosen side)' : ''}`, '', '| metric | mean (1–5) |', '|---|---|');
    for (const [m, mean] of Object.entries(grades.means)) lines.push(`| ${m} | ${mean} |`);
  } else lines.push('- Graded records: none');
  const { dedup, decontamination } = input.screen;
  lines.push('', '## Deduplication and decontamination', '');
  if (dedup) lines.push(`- Dedup: ${dedup.dropped} dropped (${dedup.exact} exact after normalising, ${dedup.near} near duplicates: Jaccard similarity of word ${dedup.shingle_words}-gram sets ≥ ${dedup.threshold}, found with MinHash).`);
  else lines.push('- Dedup on export: not run.');
  if (decontamination) lines.push(`- Decontamination against ${decontamination.sets.join(', ')} (${decontamination.benchmark_prompts} prompts): ${decontamination.dropped} dropped (normalised exact match, or at least ${decontamination.overlap} of a benchmark prompt's word ${decontamination.ngram}-grams).`);
  else lines.push('- Decontamination on export: not run.');
  for (const row of decontamination?.rows.slice(0, 50) ?? []) lines.push(`  - \`${row.dropped}\` matched ${row.set} #${row.id} (${row.match}, ${row.overlap})`);
  if (input.format === 'dpo') {
    lines.push(
      '',
      '## The rejected side',
      '',
      `Every \`rejected\` answer was written to violate the policies on purpose. ${REJECTED_LABEL}`,
      '',
      `Both sides of a pair were written by the same writer and responder models and prompts, one writing each; the rejected side differs only by a bad belief the writer held silently, which the prompt here does not contain. A pair is in this file only when a judge found the rejected side violating and the chosen side not, their reasoning is within ${MAX_PAIR_LENGTH_RATIO}× of each other in length, and the chosen side's faithfulness_policy_cot grade exceeds the rejected side's by at least the run's min_margin.`,
    );
  }
  return lines.join('\n') + '\n';
}
