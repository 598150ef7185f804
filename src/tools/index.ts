import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AppContext } from '../context.js';
import { registerDeliberateSafetyCot } from './deliberate-safety-cot.js';
import { registerGetRecord } from './get-record.js';
import { registerGradeCot } from './grade-cot.js';
import { registerListPolicies } from './list-policies.js';
import { registerListRecords } from './list-records.js';
import { registerMakePreferencePair } from './make-preference-pair.js';
import { registerRefineCot } from './refine-cot.js';

export function registerTools(server: McpServer, ctx: AppContext): void {
  registerListPolicies(server, ctx);
  registerDeliberateSafetyCot(server, ctx);
  registerRefineCot(server, ctx);
  registerGetRecord(server, ctx);
  registerListRecords(server, ctx);
  registerMakePreferencePair(server, ctx);
  registerGradeCot(server, ctx);
}
