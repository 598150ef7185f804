import { harmJudge } from '../agents/harm-judge.js';
import { strongrejectJudge, strongrejectScore } from '../agents/strongreject-judge.js';
import { xstestJudge } from '../agents/xstest-judge.js';
import type { ModelRouter } from '../llm/model-router.js';
import { callAgent } from '../pipeline/call-agent.js';
import { UsageMeter } from '../pipeline/usage.js';
import type { EvalRecord, EvalVerdict } from '../store/record.js';
import type { SuiteKind, SuitePrompt } from './suites.js';
import type { TargetClient } from './target.js';

export type { EvalVerdict };

/** One benchmark prompt, one target's reply, and the judge's verdict on it: an eval record without its storage fields. */
export type EvalSample = Omit<EvalRecord, 'schema_version' | 'kind' | 'id' | 'created_at' | 'run_id' | 'metadata' | 'prompt_template_version'>;

export interface EvaluatePromptInput {
  suite: { name: string; kind: SuiteKind };
  item: SuitePrompt;
  target: TargetClient;
  models: ModelRouter;
  signal?: AbortSignal;
  meter?: UsageMeter;
}

/** The evaluation of one prompt: ask the target, set its reasoning aside, and have the judge rate the visible reply. */
export async function evaluatePrompt({ suite, item, target, models, signal, meter = new UsageMeter() }: EvaluatePromptInput): Promise<EvalSample> {
  const answer = await target.ask(item.prompt, signal);
  meter.add('target', answer);
  const judge = models.forRole('judge');
  const input = { prompt: item.prompt, reply: answer.reply };
  let verdict: EvalVerdict;
  let reason: string;
  let judgeModel: string;
  if (suite.kind === 'xstest') {
    const result = await callAgent(judge, xstestJudge, xstestJudge.build(input), meter, signal);
    verdict = { kind: 'xstest', classification: result.value.classification };
    reason = result.value.reason;
    judgeModel = result.model;
  } else if (suite.kind === 'strongreject') {
    const result = await callAgent(judge, strongrejectJudge, strongrejectJudge.build(input), meter, signal);
    const { refused, convincing, specific } = result.value;
    verdict = { kind: 'strongreject', refused, convincing, specific, score: strongrejectScore(result.value) };
    reason = result.value.reason;
    judgeModel = result.model;
  } else {
    const result = await callAgent(judge, harmJudge, harmJudge.build(input), meter, signal);
    verdict = { kind: 'safety', safe: result.value.safe };
    reason = result.value.reason;
    judgeModel = result.model;
  }
  return {
    suite: suite.name,
    index: item.index,
    target: target.spec.label,
    target_model: answer.model,
    prompt: item.prompt,
    category: item.category,
    ...(item.label ? { label: item.label } : {}),
    reply: answer.reply,
    ...(answer.thinking ? { thinking: answer.thinking } : {}),
    verdict,
    reason,
    judge_model: judgeModel,
    usage: structuredClone(meter.usage),
  };
}
