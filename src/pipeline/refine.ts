import { refiner, type Refinement } from '../agents/refiner.js';
import { responder } from '../agents/responder.js';
import type { ModelRouter } from '../llm/model-router.js';
import type { Policy } from '../policies/policy.js';
import type { Usage } from '../store/record.js';
import { callAgent } from './call-agent.js';
import { UsageMeter } from './usage.js';

export interface RefineResult extends Refinement {
  response: string;
  usage: Usage;
  models: { refiner: string; responder: string };
}

/** Stages 4 and 5 alone, for thoughts written elsewhere (by hand, or by another generator). */
export async function refineThoughts(options: {
  prompt: string;
  thoughts: string[];
  policies: Policy[];
  models: ModelRouter;
  signal?: AbortSignal;
}): Promise<RefineResult> {
  const { prompt, thoughts, policies, models, signal } = options;
  const meter = new UsageMeter();
  const refinerModel = models.forRole('refiner');
  const refined = await callAgent(refinerModel, refiner, refiner.build({ prompt, thoughts, policies }), meter, signal);
  const responderModel = models.forRole('responder');
  const response = await callAgent(responderModel, responder, responder.build({ prompt, refinedThoughts: refined.value.refined_thoughts, policies }), meter, signal);
  return {
    refined_thoughts: refined.value.refined_thoughts,
    removed: refined.value.removed,
    response: response.value.response,
    usage: meter.usage,
    models: { refiner: refined.model, responder: response.model },
  };
}
