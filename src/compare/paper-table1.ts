import type { GradeMetric } from '../agents/grader.js';

/**
 * The paper's Table 1 (arXiv 2505.21784): mean auto-grader scores (1–5) of AIDSAFE chains of thought and
 * of a single model's zero-shot ones, on BeaverTails prompts. Shown beside a comparison as a reference,
 * not as a target: other prompts, models and graders give other numbers.
 */
export const PAPER_TABLE_1: Record<GradeMetric, { baseline: number; aidsafe: number }> = {
  relevance: { baseline: 4.66, aidsafe: 4.68 },
  coherence: { baseline: 4.93, aidsafe: 4.96 },
  completeness: { baseline: 4.86, aidsafe: 4.92 },
  faithfulness_policy_cot: { baseline: 3.85, aidsafe: 4.27 },
  faithfulness_policy_response: { baseline: 4.85, aidsafe: 4.91 },
  faithfulness_cot_response: { baseline: 4.99, aidsafe: 5.0 },
};
export const PAPER_TABLE_1_SOURCE = 'AIDSAFE paper (arXiv 2505.21784), Table 1: zero-shot single LLM vs AIDSAFE, BeaverTails prompts';
