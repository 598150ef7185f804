import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ReasoningMode } from './rows.js';

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

const text = (name: string): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });

/** A column of chat messages: a LIST of structs with role, content and, for answers, the reasoning field. */
function messages(name: string, reasoning: ReasoningMode | undefined): SchemaElement[] {
  const fields = ['role', 'content', ...(reasoning && reasoning !== 'think' ? [reasoning] : [])];
  return [
    { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', num_children: fields.length },
    ...fields.map(text),
  ];
}

/** `answers` are message lists that may carry assistant turns, so they get the reasoning field. */
export type ColumnKind = 'text' | 'number' | 'integer' | 'messages' | 'answers';

/**
 * Writes rows of one export shape as a Parquet file, the Hub's own format. The columns are typed from
 * the shape (never guessed from the data), so an empty split still has its schema, and message lists
 * become LIST<STRUCT<…>> as `datasets` and pyarrow write them.
 */
export function parquetBuffer(rows: Record<string, unknown>[], columns: [string, ColumnKind][], reasoning: ReasoningMode): ArrayBuffer {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const [name, kind] of columns) {
    if (kind === 'messages' || kind === 'answers') schema.push(...messages(name, kind === 'answers' ? reasoning : undefined));
    else if (kind === 'number') schema.push({ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' });
    else if (kind === 'integer') schema.push({ name, type: 'INT64', repetition_type: 'OPTIONAL' });
    else schema.push(text(name));
  }
  const columnData = columns.map(([name, kind]) => ({
    name,
    data: rows.map((row) => {
      const value = row[name] ?? null;
      return kind === 'integer' && typeof value === 'number' ? BigInt(Math.round(value)) : value;
    }),
  }));
  return parquetWriteBuffer({ columnData, schema, createdBy: 'aidsafe-mcp' });
}
