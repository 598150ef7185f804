import { splitThinking } from '../eval/thinking.js';
import { DEFAULT_PROMPT_COLUMNS } from '../inputs/read-prompts.js';
import { thoughtLines } from './lint-chain.js';

/**
 * Where the chains of thought are in a row of a CoT dataset: this project's exports (sft
 * prompt/completion or messages with `<think>` in the assistant turn, dpo chosen/rejected, aidsafe
 * `refined_thoughts`, stored records with thought arrays) and the common shapes of other datasets.
 */

/** Columns that hold reasoning only: their whole text is thoughts, `<think>` tags or not. */
export const THOUGHT_COLUMNS = ['refined_thoughts', 'thoughts', 'cot', 'chain_of_thought', 'reasoning', 'reasoning_content', 'thinking', 'think', 'rationale'] as const;
/** Columns that hold an answer: only what is inside `<think>` (or a message's reasoning field) is thoughts. */
export const ANSWER_COLUMNS = ['completion', 'messages', 'response', 'output', 'answer', 'generation'] as const;
export const PROMPT_COLUMNS = [...DEFAULT_PROMPT_COLUMNS, 'instruction', 'input', 'query', 'messages'] as const;

/** The columns to lint when none is named, or none when the file has no column of a known shape. */
export function defaultChainColumns(columns: readonly string[]): string[] | undefined {
  const pair = ['chosen', 'rejected'].filter((c) => columns.includes(c));
  if (pair.length > 0) return pair;
  const found = [...THOUGHT_COLUMNS, ...ANSWER_COLUMNS].find((c) => columns.includes(c));
  return found ? [found] : undefined;
}

export function defaultPromptColumn(columns: readonly string[]): string | undefined {
  return PROMPT_COLUMNS.find((c) => columns.includes(c));
}

export interface Chain {
  thoughts: string[];
  /** The bad belief a stored rejected side was written under. */
  belief?: string;
}

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };

/** A cell of a CSV file may hold JSON (a list of thoughts, a message list). */
function parsed(text: string): Json | undefined {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

/**
 * The chain of thought in one cell. `wholeText` says a plain string is all reasoning (a thoughts
 * column, or a column the user named); otherwise only a `<think>` block counts. A `<think>` block is
 * split one thought per line, as exports write it.
 */
export function chainOf(value: unknown, wholeText: boolean): Chain {
  if (typeof value === 'string') {
    const json = parsed(value);
    if (json !== undefined && typeof json === 'object' && json !== null) return chainOf(json, wholeText);
    if (/<\/?think>/i.test(value)) return { thoughts: thoughtLines(splitThinking(value).thinking ?? '') };
    return { thoughts: wholeText ? thoughtLines(value) : [] };
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { thoughts: value.map((v) => v.trim()).filter(Boolean) };
    // A message list: the reasoning of its assistant turns.
    const turns = value.filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null && (m as { role?: unknown }).role !== 'user' && (m as { role?: unknown }).role !== 'system');
    return { thoughts: turns.flatMap((m) => chainOf(m, false).thoughts) };
  }
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    const belief = typeof o.belief === 'string' ? { belief: o.belief } : {};
    for (const key of ['thoughts', 'refined_thoughts'] as const) if (o[key] !== undefined) return { ...chainOf(o[key], true), ...belief };
    for (const key of ['reasoning_content', 'thinking', 'reasoning'] as const) if (typeof o[key] === 'string' && o[key].trim()) return { thoughts: thoughtLines(o[key]), ...belief };
    if (typeof o.content === 'string') return { ...chainOf(o.content, false), ...belief };
  }
  return { thoughts: [] };
}

/** The request in a prompt cell: the text, or the user turns of a message list. */
export function promptOf(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const json = parsed(value);
    return json !== undefined && typeof json === 'object' && json !== null ? promptOf(json) : value;
  }
  if (Array.isArray(value)) {
    const users = value.filter((m): m is { role: string; content: string } => typeof m === 'object' && m !== null && (m as { role?: unknown }).role === 'user' && typeof (m as { content?: unknown }).content === 'string');
    return users.length > 0 ? users.map((m) => m.content).join('\n\n') : undefined;
  }
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}
