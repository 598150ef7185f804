import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AppContext } from '../context.js';
import { registerAddPolicy } from './add-policy.js';
import { registerCancelBatch } from './cancel-batch.js';
import { registerCompareRuns } from './compare-runs.js';
import { registerDeliberateSafetyCot } from './deliberate-safety-cot.js';
import { registerExportDataset } from './export-dataset.js';
import { registerExportReport } from './export-report.js';
import { registerGetBatch } from './get-batch.js';
import { registerGetEval } from './get-eval.js';
import { registerGetRecord } from './get-record.js';
import { registerGradeCot } from './grade-cot.js';
import { registerListPolicies } from './list-policies.js';
import { registerListRecords } from './list-records.js';
import { registerMakePreferencePair } from './make-preference-pair.js';
import { publishCleanToolSchemas } from './published-schemas.js';
import { registerRefineCot } from './refine-cot.js';
import { registerRemovePolicy } from './remove-policy.js';
import { registerStartBatch } from './start-batch.js';
import { registerStartEval } from './start-eval.js';

/** Every tool, by name, in the order tools/list shows them. */
const TOOLS: [string, (server: McpServer, ctx: AppContext) => void][] = [
  ['list_policies', registerListPolicies],
  ['deliberate_safety_cot', registerDeliberateSafetyCot],
  ['refine_cot', registerRefineCot],
  ['get_record', registerGetRecord],
  ['list_records', registerListRecords],
  ['make_preference_pair', registerMakePreferencePair],
  ['grade_cot', registerGradeCot],
  ['start_batch', registerStartBatch],
  ['get_batch', registerGetBatch],
  ['cancel_batch', registerCancelBatch],
  ['export_dataset', registerExportDataset],
  ['export_report', registerExportReport],
  ['compare_runs', registerCompareRuns],
  ['add_policy', registerAddPolicy],
  ['remove_policy', registerRemovePolicy],
  ['start_eval', registerStartEval],
  ['get_eval', registerGetEval],
];

/** Registers every tool, or those of the tool sets AIDSAFE_TOOLS names. */
export function registerTools(server: McpServer, ctx: AppContext): void {
  const only = ctx.config.tools;
  for (const [name, register] of TOOLS) if (!only || only.has(name)) register(server, ctx);
  publishCleanToolSchemas(server);
}
