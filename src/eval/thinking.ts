/**
 * A reasoning model's reply: the visible answer and the reasoning before it. The reasoning is kept in
 * the sample (it shows why a model refused or complied) but never shown to the judge, which rates
 * what a user would read.
 */
export interface SplitReply {
  reply: string;
  thinking?: string;
}

const BLOCK = /<think>([\s\S]*?)<\/think>/gi;

/**
 * Separates `<think>…</think>` blocks (anywhere in the text), a leading reasoning closed by a lone
 * `</think>` (chat templates that open the block in the prompt), an unclosed `<think>` (a reply cut
 * off while thinking), and a server's separate `reasoning_content` field, from the answer.
 */
export function splitThinking(content: string, reasoningField?: string | null): SplitReply {
  const parts: string[] = [];
  if (reasoningField && reasoningField.trim()) parts.push(reasoningField.trim());
  let text = content;
  const closeOnly = /^([\s\S]*?)<\/think>/i.exec(text);
  if (closeOnly && !/<think>/i.test(closeOnly[1] ?? '')) {
    parts.push((closeOnly[1] ?? '').trim());
    text = text.slice(closeOnly[0].length);
  }
  text = text.replace(BLOCK, (_, inner: string) => {
    parts.push(inner.trim());
    return '';
  });
  const open = /<think>([\s\S]*)$/i.exec(text);
  if (open) {
    parts.push((open[1] ?? '').trim());
    text = text.slice(0, open.index);
  }
  const thinking = parts.filter(Boolean).join('\n\n');
  return { reply: text.trim(), ...(thinking ? { thinking } : {}) };
}
