import { z } from 'zod';

const cache = new WeakMap<z.ZodType, Record<string, unknown>>();

/** A zod schema as JSON Schema (without `$schema`), converted once per schema: it is on every model call's path. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  let json = cache.get(schema);
  if (!json) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
    json = rest;
    cache.set(schema, json);
  }
  return json;
}
