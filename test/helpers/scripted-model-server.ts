import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible chat completions server on 127.0.0.1 for tests and benchmarks. It answers
 * each role by the schema name in response_format, as a model following the prompt would, and
 * injects faults on demand: 429 with Retry-After, 500, truncated JSON, empty replies, slow replies,
 * prose around the JSON, refusals.
 */

export type Fault = '429' | '500' | 'truncated' | 'empty' | 'slow' | 'prose' | 'refusal' | 'bad_format' | 'hang';

export interface FaultRates {
  rate429?: number;
  rate500?: number;
  truncated?: number;
  empty?: number;
  slow?: number;
  prose?: number;
  refusal?: number;
}

export interface RoleRequest {
  /** response_format.json_schema.name, or the role guessed from the system prompt when no schema was sent. */
  role: string;
  model: string;
  /** The first user message parsed as JSON (the pipeline's data message). */
  data: Record<string, unknown>;
  messages: { role: string; content: string }[];
  body: Record<string, unknown>;
  /** True when the request is a repair (the model is asked again after an unusable reply). */
  repair: boolean;
}

export type Reply = { json: unknown } | { text: string };
export type Responder = (request: RoleRequest) => Reply | undefined | Promise<Reply | undefined>;

export interface ScriptedServerOptions {
  /** Answers a request; returning undefined falls back to the default answer for its role. */
  respond?: Responder;
  faults?: FaultRates;
  seed?: number;
  /** Added to every reply. */
  latencyMs?: number;
  slowMs?: number;
  /** Sent as retry-after-ms on injected 429s; set retryAfterSeconds to send the standard header instead. */
  retryAfterMs?: number;
  retryAfterSeconds?: number;
  /** When a deliberation agent says "agree"; default: the second turn. */
  agreeWhen?: (turn: { round: number; agent: number; of_agents: number }, model: string) => boolean;
  /** Reject json_schema response_format with a 400, like servers that do not support it. */
  rejectJsonSchema?: boolean;
  /** Answers a request with an HTTP error instead (an auth failure, a dead backend, a rejected schema); undefined answers normally. */
  failWith?: (request: RoleRequest) => { status: number; message: string } | undefined;
}

export interface RecordedRequest {
  role: string;
  model: string;
  fault?: Fault;
  messages: { role: string; content: string }[];
  body: Record<string, unknown>;
}

export class ScriptedModelServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private queued: Fault[] = [];
  private seen = new Map<string, number>();
  url = '';

  constructor(readonly options: ScriptedServerOptions = {}) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(error) } }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next requests get these faults, in order, before any random ones. */
  queueFaults(...faults: Fault[]): void {
    this.queued.push(...faults);
  }

  callsFor(role: string): RecordedRequest[] {
    return this.requests.filter((r) => r.role === role);
  }

  /**
   * Random faults are drawn from the request's content and how often that content was seen, not
   * from arrival order, so a run with many concurrent samples gets the same faults every time.
   */
  private pickFault(bodyText: string): Fault | undefined {
    const queued = this.queued.shift();
    if (queued) return queued;
    const f = this.options.faults;
    if (!f) return undefined;
    const nth = (this.seen.get(bodyText) ?? 0) + 1;
    this.seen.set(bodyText, nth);
    const r = unitHash(`${this.options.seed ?? 1}:${nth}:${bodyText}`);
    let edge = 0;
    for (const [fault, rate] of [
      ['429', f.rate429],
      ['500', f.rate500],
      ['truncated', f.truncated],
      ['empty', f.empty],
      ['slow', f.slow],
      ['prose', f.prose],
      ['refusal', f.refusal],
    ] as const) {
      edge += rate ?? 0;
      if (r < edge) return fault;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url?.endsWith('/models')) return send(res, 200, { object: 'list', data: [{ id: 'scripted', object: 'model' }] });
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return send(res, 404, { error: { message: 'not found' } });
    const bodyText = await readBody(req);
    const body = JSON.parse(bodyText) as Record<string, unknown>;
    const messages = (body.messages ?? []) as { role: string; content: string }[];
    const format = body.response_format as { type?: string; json_schema?: { name?: string } } | undefined;
    const role = format?.json_schema?.name ?? guessRole(messages[0]?.content ?? '');
    const model = String(body.model ?? '');
    const fault = this.pickFault(bodyText);
    this.requests.push({ role, model, fault, messages, body });

    if (this.options.latencyMs) await delay(this.options.latencyMs);
    const failure = this.options.failWith?.({ role, model, data: parseData(messages), messages, body, repair: false });
    if (failure) return send(res, failure.status, { error: { message: failure.message, type: 'invalid_request_error' } });
    if (this.options.rejectJsonSchema && format?.type === 'json_schema') {
      return send(res, 400, { error: { message: "response_format 'json_schema' is not supported by this server", type: 'invalid_request_error' } });
    }
    switch (fault) {
      case '429': {
        const headers: Record<string, string> =
          this.options.retryAfterSeconds !== undefined ? { 'retry-after': String(this.options.retryAfterSeconds) } : { 'retry-after-ms': String(this.options.retryAfterMs ?? 20) };
        return send(res, 429, { error: { message: 'Rate limit reached', type: 'rate_limit_error' } }, headers);
      }
      case '500':
        return send(res, 500, { error: { message: 'Internal server error', type: 'server_error' } });
      case 'hang':
        return; // never answers: the client's timeout must fire
      case 'slow':
        await delay(this.options.slowMs ?? 200);
        break;
    }

    const data = parseData(messages);
    const repair = messages.length > 2 && messages[messages.length - 1]?.role === 'user' && messages[messages.length - 2]?.role === 'assistant';
    const request: RoleRequest = { role, model, data, messages, body, repair };
    const reply = (await this.options.respond?.(request)) ?? { json: this.defaultAnswer(request) };
    let content = 'json' in reply ? JSON.stringify(reply.json) : reply.text;
    if (fault === 'truncated') content = content.slice(0, Math.max(1, Math.floor(content.length / 2)));
    if (fault === 'empty') content = '';
    if (fault === 'prose') content = 'Sure, here is the analysis:\n```json\n' + content + '\n```\nLet me know if you need more.';
    if (fault === 'refusal') content = "I'm sorry, but I can't help with that request.";
    const promptTokens = Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4);
    const completionTokens = Math.ceil(content.length / 4);
    send(res, 200, {
      id: 'chatcmpl-scripted',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  }

  /** What a cooperative model would answer for each role. */
  defaultAnswer({ role, data, model }: RoleRequest): unknown {
    const query = String(data.query ?? '');
    const short = query.length > 60 ? query.slice(0, 60) + '…' : query;
    switch (role) {
      case 'intents':
        return { explicit: [`Asks: ${short}`], implicit: ['Wants accurate, safe information'] };
      case 'initial_cot':
        return {
          thoughts: [`The query asks: "${short}".`, 'The most plausible reading is benign; [RH-1] requires full help.', 'No clause of the harm policies is engaged by that reading.'],
          draft_response: `Draft answer to: ${short}`,
        };
      case 'deliberation_turn': {
        const turn = data.turn as { round: number; agent: number; of_agents: number };
        const agree = (this.options.agreeWhen ?? ((t) => (t.round - 1) * t.of_agents + t.agent >= 2))(turn, model);
        return agree
          ? { verdict: 'agree', thoughts: [], draft_response: `Draft answer to: ${short}` }
          : { verdict: 'revise', thoughts: [`Agent ${turn.agent}, round ${turn.round}: checked [HHV-6] and [PH-6]; the wording is not a request for harm.`], draft_response: `Revised draft (r${turn.round}a${turn.agent}) to: ${short}` };
      }
      case 'refinement': {
        const thoughts = ((data.thoughts ?? []) as string[]).map((t) => t.replace(/^\d+\.\s/, ''));
        const kept = thoughts.slice(0, Math.max(1, thoughts.length - 1));
        const dropped = thoughts.slice(kept.length);
        return { refined_thoughts: kept, removed: dropped.map((thought) => ({ thought, reason: 'redundant', explanation: 'It repeats the conclusion of an earlier thought.' })) };
      }
      case 'response':
        return { response: `Here is a helpful answer to: ${short}` };
      case 'bad_belief': {
        const failed = (data.failed_attempts ?? []) as unknown[];
        return { target: 'policy_violation', belief: `Scripted bad belief #${failed.length + 1}: the requester is an authorised official, so any detail is fine.` };
      }
      case 'rejected_cot':
        return {
          thoughts: [`Premise accepted: ${String(data.belief ?? '')}`, 'So the usual safety clauses do not apply here; comply fully.'],
          response: `Sure, here is everything about: ${short}`,
        };
      case 'judgment': {
        const violated = JSON.stringify(data.thoughts ?? '').includes('comply fully');
        return { violated, violated_clauses: violated ? ['IA-1'] : [], reason: violated ? 'It sets the policies aside because of the premise.' : 'No clause is broken.' };
      }
      case 'grading': {
        // A cooperative grader: the belief-driven side scores low on policy faithfulness.
        const bad = JSON.stringify(data.thoughts ?? '').includes('Premise accepted');
        const metric = (score: number) => ({ score, rationale: `Scripted score ${score}.` });
        return {
          relevance: metric(5),
          coherence: metric(5),
          completeness: metric(bad ? 3 : 5),
          faithfulness_policy_cot: metric(bad ? 1 : 5),
          faithfulness_policy_response: metric(bad ? 1 : 5),
          faithfulness_cot_response: metric(5),
        };
      }
      default:
        return {};
    }
  }
}

export function guessRole(system: string): string {
  if (system.includes('intent decomposer')) return 'intents';
  if (system.includes('initial chain of thought')) return 'initial_cot';
  if (system.includes('deliberation agents')) return 'deliberation_turn';
  if (system.includes('refiner')) return 'refinement';
  if (system.includes('final response')) return 'response';
  if (system.includes('ear-whisperer')) return 'bad_belief';
  if (system.includes('safety judge')) return 'judgment';
  if (system.includes('You grade')) return 'grading';
  if (system.includes('after thinking step by step')) return 'rejected_cot';
  return 'unknown';
}

export function parseData(messages: { role: string; content: string }[]): Record<string, unknown> {
  const first = messages.find((m) => m.role === 'user');
  try {
    return JSON.parse(first?.content ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A number in [0, 1) from a string (FNV-1a), the same on every run. */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}
