import type { CotRecord, PreferenceRecord } from '../store/record.js';

export const EXPORT_FORMATS = ['sft', 'dpo', 'aidsafe'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const SFT_SHAPES = ['prompt-completion', 'messages'] as const;
export type SftShape = (typeof SFT_SHAPES)[number];

/**
 * Where the chain of thought goes in an assistant message. `think` writes it inside the content (what
 * Qwen3-style templates parse back out); the others give it a field of its own, which the templates of
 * newer reasoning models read.
 */
export const REASONING_MODES = ['think', 'reasoning_content', 'thinking'] as const;
export type ReasoningMode = (typeof REASONING_MODES)[number];

export interface RowOptions {
  format: ExportFormat;
  sftShape: SftShape;
  reasoning: ReasoningMode;
  /** The system message's text for a record, or undefined for none. */
  system?: (record: CotRecord | PreferenceRecord) => string | undefined;
}

interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
  reasoning_content?: string;
  thinking?: string;
}

/** The assistant turn of a training row: the CoT inside <think> tags, then the answer. */
export function assistantContent(thoughts: readonly string[], response: string): string {
  return `<think>\n${thoughts.join('\n')}\n</think>\n\n${response}`;
}

export function assistantMessage(thoughts: readonly string[], response: string, reasoning: ReasoningMode): Message {
  if (reasoning === 'think') return { role: 'assistant', content: assistantContent(thoughts, response) };
  return { role: 'assistant', content: response, [reasoning]: thoughts.join('\n') };
}

/** The metadata column: the input row's other columns as one JSON string, so its type never varies. */
export function metadataJson(metadata: Record<string, unknown> | undefined): string {
  const value = metadata ?? {};
  return JSON.stringify(Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])));
}

function promptMessages(record: CotRecord | PreferenceRecord, options: RowOptions): Message[] {
  const system = options.system?.(record);
  return [...(system !== undefined ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: record.prompt }];
}

/**
 * One training row. Every row of a file has the same keys and each key one type: ids and `run_id` are
 * strings (`run_id` empty when the record is not from a run) and `metadata` is a JSON string, so the
 * datasets library and plain pyarrow infer one schema for the whole file.
 */
export function toRow(record: CotRecord | PreferenceRecord, options: RowOptions): Record<string, unknown> {
  if (options.format === 'dpo') {
    const pair = record as PreferenceRecord;
    // Only kept pairs are exported, and a kept pair always has a confirmed rejected side.
    if (!pair.rejected || pair.margin === undefined) throw new Error(`pair ${pair.id} has no confirmed rejected side; only kept pairs are exported`);
    return {
      prompt: promptMessages(pair, options),
      chosen: [assistantMessage(pair.chosen.thoughts, pair.chosen.response, options.reasoning)],
      rejected: [assistantMessage(pair.rejected.thoughts, pair.rejected.response, options.reasoning)],
      id: pair.id,
      source_record_id: pair.source_record_id,
      margin: pair.margin,
      run_id: pair.run_id ?? '',
      metadata: metadataJson(pair.metadata),
    };
  }
  const cot = record as CotRecord;
  if (options.format === 'sft') {
    const prompt = promptMessages(cot, options);
    const answer = assistantMessage(cot.refined_thoughts, cot.response, options.reasoning);
    const text = options.sftShape === 'messages' ? { messages: [...prompt, answer] } : { prompt, completion: [answer] };
    return { ...text, id: cot.id, run_id: cot.run_id ?? '', metadata: metadataJson(cot.metadata) };
  }
  return {
    prompt: cot.prompt,
    refined_thoughts: cot.refined_thoughts.join('\n'),
    response: cot.response,
    deliberation_log: deliberationLog(cot),
  };
}

/**
 * The `deliberation_log` column of the aidsafe format: a JSON string of
 * `{ intents: { explicit, implicit }, initial_thoughts, turns: [{ round, agent, model, verdict, thoughts }] }`.
 */
export function deliberationLog(cot: CotRecord): string {
  return JSON.stringify({
    intents: { explicit: cot.intents.explicit, implicit: cot.intents.implicit },
    initial_thoughts: cot.initial_thoughts,
    turns: cot.deliberation.map(({ round, agent, model, verdict, thoughts }) => ({ round, agent, model, verdict, thoughts })),
  });
}

/** The text of `--system policies`: the title and clauses of each policy a sample used. */
export function policiesSystemPrompt(policies: readonly { title: string; clauses: readonly { id: string; text: string }[] }[]): string {
  return policies.map((p) => `## ${p.title}\n${p.clauses.map((c) => `[${c.id}] ${c.text}`).join('\n')}`).join('\n\n');
}
