import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ListToolsResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';

type JsonSchema = { [key: string]: unknown };
type Handler = (request: unknown, extra: unknown) => Promise<unknown>;

/**
 * The tool schemas as clients read them. zod writes every schema with a draft-07 "$schema", which some
 * strict clients refuse (MCP leaves the dialect to the client), and writes "an integer" as the range
 * ±9007199254740991, which reads as a limit but is none. Inputs carry real bounds of their own. The
 * regular expressions of ids and names are left to the server: a caller copies an id from another
 * result rather than composing it, and a mistyped one is answered with an error naming the field and
 * its form, so in every conversation they would be noise.
 */
export function publishedSchema(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return clean(rest, false) as JsonSchema;
}

/**
 * An output schema names the fields a client needs; a result may carry more (a record's audit fields,
 * which get_record also returns), so it is published open: without "additionalProperties", which JSON
 * Schema reads as "anything else is allowed" and which would otherwise repeat on every object. Its
 * "required" lists go too: the server holds every result to the full zod schema before it is sent, so
 * for a client they would only repeat each field name in every conversation.
 */
export function publishedOutputSchema(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return clean(rest, true) as JsonSchema;
}

function clean(node: unknown, open: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => clean(item, open));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) continue;
    if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) continue;
    if (key === 'pattern' && typeof value === 'string') continue;
    if (open && key === 'additionalProperties' && (value === false || (typeof value === 'object' && value !== null && Object.keys(value).length === 0))) continue;
    if (open && key === 'required' && Array.isArray(value)) continue;
    // Bounds are for what a caller sends; a result's ranges are in the tool's description.
    if (open && (key === 'minimum' || key === 'maximum') && typeof value === 'number') continue;
    out[key] = clean(value, open);
  }
  return out;
}

/** What MCP takes a hint to be when it is absent; destructive and idempotent mean something only for a tool that writes. */
const HINT_DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;

/** The annotations that say something beyond MCP's defaults: the same meaning to a client, in fewer words. */
export function publishedAnnotations(annotations: ToolAnnotations): ToolAnnotations {
  const out: ToolAnnotations = {};
  for (const [key, value] of Object.entries(annotations) as [keyof ToolAnnotations, unknown][]) {
    if (key in HINT_DEFAULTS && HINT_DEFAULTS[key as keyof typeof HINT_DEFAULTS] === value) continue;
    if (annotations.readOnlyHint === true && (key === 'destructiveHint' || key === 'idempotentHint')) continue;
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * Wraps the SDK's tools/list answer (after every tool is registered) so each input and output schema is
 * published through `publishedSchema` and `publishedOutputSchema`. The SDK offers no hook for this, so
 * its handler is wrapped. A chat host puts this whole answer into every conversation, so what carries no
 * information is left out: `execution.taskSupport: "forbidden"` is what an absent one means, and a hint
 * at its default value is what an absent hint means.
 */
export function publishCleanToolSchemas(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, Handler> })._requestHandlers;
  const list = handlers?.get('tools/list');
  if (!handlers || !list) throw new Error('tools/list is not registered: register the tools first');
  handlers.set('tools/list', async (request, extra) => {
    const result = (await list(request, extra)) as ListToolsResult;
    return {
      ...result,
      tools: result.tools.map(({ execution, ...tool }) => ({
        ...tool,
        ...(execution && execution.taskSupport !== 'forbidden' ? { execution } : {}),
        ...(tool.annotations ? { annotations: publishedAnnotations(tool.annotations) } : {}),
        inputSchema: publishedSchema(tool.inputSchema) as ListToolsResult['tools'][number]['inputSchema'],
        ...(tool.outputSchema ? { outputSchema: publishedOutputSchema(tool.outputSchema) as ListToolsResult['tools'][number]['inputSchema'] } : {}),
      })),
    };
  });
}
