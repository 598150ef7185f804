/**
 * Groups of tools a server can be started with (AIDSAFE_TOOLS), for a chat host whose every
 * conversation carries the whole tools/list: one that only deliberates in chat need not carry the
 * dataset and evaluation tools. Every tool is in at least one set; the default is all of them.
 */
export const TOOL_SETS = {
  chat: ['list_policies', 'deliberate_safety_cot', 'refine_cot', 'get_record', 'list_records', 'make_preference_pair', 'grade_cot', 'add_policy', 'remove_policy'],
  batch: ['list_policies', 'start_batch', 'get_batch', 'cancel_batch', 'export_dataset', 'export_report', 'compare_runs', 'get_record', 'list_records'],
  eval: ['start_eval', 'get_eval', 'get_batch', 'cancel_batch'],
} as const;

export type ToolSetName = keyof typeof TOOL_SETS;
const NAMES = Object.keys(TOOL_SETS) as ToolSetName[];

/** The tools to register, from AIDSAFE_TOOLS ("chat,batch", "all"); undefined: every tool. */
export function parseToolSets(value: string | undefined, fail: (message: string) => Error): ReadonlySet<string> | undefined {
  if (value === undefined || value.trim() === '' || value.trim() === 'all') return undefined;
  const tools = new Set<string>();
  for (const name of value.split(',').map((s) => s.trim())) {
    if (name === 'all') return undefined;
    if (!NAMES.includes(name as ToolSetName)) throw fail(`AIDSAFE_TOOLS: "${name}" is not a tool set; give a comma-separated list of ${NAMES.join(', ')}, or all (the default)`);
    for (const tool of TOOL_SETS[name as ToolSetName]) tools.add(tool);
  }
  return tools;
}
