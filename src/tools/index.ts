import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AppContext } from '../context.js';
import { registerAddPolicy } from './add-policy.js';
import { registerCancelBatch } from './cancel-batch.js';
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

export function registerTools(server: McpServer, ctx: AppContext): void {
  registerListPolicies(server, ctx);
  registerDeliberateSafetyCot(server, ctx);
  registerRefineCot(server, ctx);
  registerGetRecord(server, ctx);
  registerListRecords(server, ctx);
  registerMakePreferencePair(server, ctx);
  registerGradeCot(server, ctx);
  registerStartBatch(server, ctx);
  registerGetBatch(server, ctx);
  registerCancelBatch(server, ctx);
  registerExportDataset(server, ctx);
  registerExportReport(server, ctx);
  registerAddPolicy(server, ctx);
  registerRemovePolicy(server, ctx);
  registerStartEval(server, ctx);
  registerGetEval(server, ctx);
  publishCleanToolSchemas(server);
}
