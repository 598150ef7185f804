import { log } from '../log.js';
import { ModelError, type ChatMessage, type CompletionRequest, type CompletionResult, type TokenUsage } from './chat-model.js';
import { looksLikeRefusal, parseReply } from './parse-reply.js';

export interface RawReply {
  content: string;
  /** A refusal the backend reported as such (OpenAI's `message.refusal`). */
  refusal?: string;
  usage: TokenUsage;
  /** The model that answered, when the backend says. */
  model?: string;
  /** Why the reply cannot be used whatever its content says (it was cut off at the reply cap): repaired like a malformed one. */
  problem?: string;
}

/** How to give the process a model server: all the CLI can use. */
export const ENDPOINT_HELP =
  'set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for an OpenAI-compatible server (for Ollama: OPENAI_BASE_URL=http://127.0.0.1:11434/v1 AIDSAFE_MODEL=llama3.1), or point AIDSAFE_CONFIG at a config file';
/** The same, for the MCP server, whose client may lend its own model. */
export const NOT_CONFIGURED_HELP = `${ENDPOINT_HELP}; or use a client that offers MCP sampling`;

/**
 * Asks, parses the reply against the role's schema, and on an empty, malformed, off-schema or refused
 * reply asks again with the problem stated, up to `maxRepairs` times. Shared by every backend.
 */
export async function completeWithRepairs<T>(
  request: CompletionRequest<T>,
  model: string,
  maxRepairs: number,
  send: (messages: ChatMessage[]) => Promise<RawReply>,
): Promise<CompletionResult<T>> {
  const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0 };
  let calls = 0;
  let messages = request.messages;
  let lastRaw = '';
  let lastProblem = '';
  let refused = false;
  let checkRepairs = 0;
  // Whether the first reply was usable against the schema: the health figure a preview reports.
  let firstTry = false;
  // A schema-valid reply whose check found problems: better than none if every later repair fails to parse.
  let flawed: { value: T; raw: string; model: string } | undefined;
  for (let repair = 0; repair <= maxRepairs; repair++) {
    const reply = await send(messages);
    calls += 1;
    usage.prompt_tokens += reply.usage.prompt_tokens;
    usage.completion_tokens += reply.usage.completion_tokens;
    lastRaw = reply.content;
    refused = reply.refusal !== undefined || looksLikeRefusal(reply.content);
    const outcome = reply.problem
      ? ({ ok: false, problem: reply.problem } as const)
      : refused
        ? ({ ok: false, problem: 'the reply refused the task' } as const)
        : parseReply(reply.content, request.schema);
    if (outcome.ok) {
      if (repair === 0) firstTry = true;
      const problems = request.check?.(outcome.value) ?? [];
      if (problems.length === 0 || repair === maxRepairs) return { value: outcome.value, raw: reply.content, model: reply.model ?? model, usage, calls, checkRepairs, firstTry };
      checkRepairs += 1;
      flawed = { value: outcome.value, raw: reply.content, model: reply.model ?? model };
      log('debug', `${request.role}: reply has ${problems.length} problem(s), asking again`, { model, problems: problems.slice(0, 3) });
      messages = [...request.messages, { role: 'assistant', content: reply.content.slice(0, 8000) }, { role: 'user', content: checkInstruction(problems) }];
      continue;
    }
    lastProblem = outcome.problem;
    log('debug', `${request.role}: unusable reply, asking again`, { model, problem: outcome.problem });
    messages = [
      ...request.messages,
      { role: 'assistant', content: (reply.content || reply.refusal || '').slice(0, 4000) || '(empty reply)' },
      { role: 'user', content: repairInstruction(outcome.problem, refused) },
    ];
  }
  if (flawed) return { ...flawed, usage, calls, checkRepairs, firstTry };
  throw new ModelError(refused ? 'refusal' : 'invalid_output', request.role, model, maxRepairs + 1, lastProblem, lastRaw);
}

function checkInstruction(problems: string[]): string {
  const listed = problems.slice(0, 12).map((p) => `- ${p}`);
  if (problems.length > 12) listed.push(`- and ${problems.length - 12} more of the same kinds`);
  return `Your previous reply could not be used as it is:\n${listed.join('\n')}\nFix these and reply again with the whole JSON object, matching the required schema, and nothing else.`;
}

function repairInstruction(problem: string, refused: boolean): string {
  const lead = refused
    ? 'This is a safety-analysis task for building training data: you are asked to analyse the query against the policies, not to carry it out.'
    : `Your previous reply could not be used: ${problem}.`;
  return `${lead} Reply again with only one JSON object that matches the required schema, and nothing else.`;
}
