import { z } from 'zod';

const cache = new WeakMap<z.ZodType, Record<string, unknown>>();

/** A zod schema as JSON Schema (without `$schema`), converted once per schema: it is on every model call's path. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let json = cache.get(schema);
  if (!json) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { override: dropSafeIntegerBounds }) as Record<string, unknown>;
    json = rest;
    cache.set(schema, json);
  }
  return json;
}

/**
 * zod gives every integer the bounds of a safe integer; in a prompt they are only noise (and a small
 * model may copy the nine-quadrillion figures), so an integer keeps only the bounds its schema set.
 */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: Record<string, unknown> }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

/**
 * The schema sent as `response_format` with `strict: true`. Strict structured outputs accept only a
 * subset of JSON Schema, and providers differ on length and range keywords (some reject the whole
 * schema over a `minLength`), so those are left out here; zod still checks every reply in full, and
 * a reply that breaks them is repaired like any other.
 */
export function strictSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let json = strictCache.get(schema);
  if (!json) {
    json = withoutConstraints(jsonSchemaOf(schema)) as Record<string, unknown>;
    strictCache.set(schema, json);
  }
  return json;
}

const strictCache = new WeakMap<z.ZodType, Record<string, unknown>>();
const CONSTRAINTS = new Set(['minLength', 'maxLength', 'minItems', 'maxItems', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'pattern', 'format']);

function withoutConstraints(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutConstraints);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (CONSTRAINTS.has(key) && typeof value !== 'object') continue;
    // "properties" maps field names to schemas: a field called "pattern" is kept.
    out[key] = key === 'properties' && value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutConstraints(v)])) : withoutConstraints(value);
  }
  return out;
}
