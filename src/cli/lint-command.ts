import { resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { InputError, UsageError } from '../errors.js';
import { describeColumns, missingColumn, openTableFile } from '../inputs/read-prompts.js';
import { builtinPoliciesDir } from '../paths.js';
import { PolicySet, UnknownPolicyError } from '../policies/policy-set.js';
import { ClauseIndex } from '../reasoning/clause-ids.js';
import { ANSWER_COLUMNS, chainOf, defaultChainColumns, defaultPromptColumn, promptOf, THOUGHT_COLUMNS } from '../reasoning/dataset-chains.js';
import { CHAIN_FINDING_KINDS, lintChain, type ChainFinding, type ChainFindingKind } from '../reasoning/lint-chain.js';
import { quote } from '../reasoning/thought-lint.js';
import { userPoliciesDir } from '../store/user-policies.js';
import { writeOutput } from '../store/write-file.js';
import { parseFlags } from './options.js';
import { COMMANDS } from './usage.js';

/** What each kind of finding means, for the table's legend. */
export const KIND_MEANING: Record<ChainFindingKind, string> = {
  meta: 'talks about agents, reviewers, turns, drafts, earlier reasoning or the process instead of the request',
  refusal: 'refuses or apologises instead of reasoning about the request',
  unknown_clause: 'cites a clause id the policies do not have (a sub-clause, another prefix, a number too high)',
  belief_leak: 'states something about the person asking that the request does not say',
  enumeration: 'begins with a list marker ("3. ", "- ", "Step 2:")',
};

interface RowFindings {
  row: number;
  id?: string;
  column: string;
  findings: ChainFinding[];
}

/**
 * `aidsafe-mcp lint`: the thought linter over any CoT dataset. Prints findings by kind with examples;
 * `--out` writes one JSONL line per chain with findings. Exit 0 when clean, 1 with findings, 2 when
 * the input cannot be read as a CoT dataset.
 */
export async function lintCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags('lint', COMMANDS.lint, argv);
  if (!values.input) throw new UsageError('--input FILE is required (a CSV or JSONL dataset with chains of thought)');
  const examples = values.examples === undefined ? 3 : Number(values.examples);
  if (!Number.isInteger(examples) || examples < 0 || examples > 100) throw new UsageError(`--examples must be a whole number from 0 to 100 (got "${values.examples}")`);
  const clauses = new ClauseIndex(loadPolicies(values.policy ?? []));

  const path = resolve(values.input);
  const table = await openTableFile(path);
  const named = values.column ?? [];
  for (const c of named) if (!table.columns.includes(c)) throw missingColumn(table, c);
  const columns = named.length > 0 ? named : defaultChainColumns(table.columns);
  if (!columns) {
    throw new InputError(
      `column: ${path} has no column of a known chain-of-thought shape (${[...THOUGHT_COLUMNS, ...ANSWER_COLUMNS, 'chosen', 'rejected'].join(', ')}); name one with --column; ${describeColumns(table.columns, table.count, 'its columns are: ')}`,
    );
  }
  const promptColumn = values['prompt-column'];
  if (promptColumn !== undefined && !table.columns.includes(promptColumn)) throw missingColumn(table, promptColumn, 'prompt-column');
  const promptFrom = promptColumn ?? defaultPromptColumn(table.columns);
  // A column the user named is all reasoning; an answer column found by name holds it only inside <think>.
  const wholeText = (column: string) => named.length > 0 || (THOUGHT_COLUMNS as readonly string[]).includes(column);

  const counts = new Map<ChainFindingKind, { findings: number; rows: Set<number>; examples: RowFindings[] }>(CHAIN_FINDING_KINDS.map((k) => [k, { findings: 0, rows: new Set(), examples: [] }]));
  const perRow: RowFindings[] = [];
  let rows = 0;
  let thoughts = 0;
  let withoutThoughts = 0;
  for await (const values of table.records()) {
    const row = rows++;
    const prompt = promptFrom !== undefined ? promptOf(values[promptFrom]) : undefined;
    const id = typeof values.id === 'string' && values.id ? { id: values.id } : {};
    let rowThoughts = 0;
    for (const column of columns) {
      const chain = chainOf(values[column], wholeText(column));
      rowThoughts += chain.thoughts.length;
      const findings = lintChain(chain.thoughts, { clauses, ...(prompt !== undefined ? { prompt } : {}), ...(chain.belief ? { belief: chain.belief } : {}) });
      if (findings.length === 0) continue;
      const entry = { row, ...id, column, findings };
      perRow.push(entry);
      for (const finding of findings) {
        const count = counts.get(finding.kind)!;
        count.findings++;
        count.rows.add(row);
        if (count.examples.length < examples) count.examples.push({ ...entry, findings: [finding] });
      }
    }
    thoughts += rowThoughts;
    if (rowThoughts === 0) withoutThoughts++;
  }
  if (rows > 0 && thoughts === 0) {
    throw new InputError(`column: found no thoughts in ${columns.join(', ')} of ${path} (no <think> block, no list of thoughts); name the column that holds them with --column`);
  }

  const out = process.stdout;
  out.write(`${path}: ${rows} rows, ${thoughts} thoughts in ${columns.join(', ')}${promptFrom ? `; requests from ${promptFrom}` : '; no request column, so no belief-leak check'}\n`);
  if (withoutThoughts > 0) out.write(`${withoutThoughts} ${withoutThoughts === 1 ? 'row has' : 'rows have'} no thoughts\n`);
  const flaggedRows = new Set(perRow.map((r) => r.row)).size;
  out.write('\n' + findingsTable(counts, rows) + '\n');
  if (perRow.length === 0) out.write('\nNo findings: every thought reads as reasoning about the request.\n');
  else out.write(`\n${flaggedRows} of ${rows} rows have findings.\n`);
  for (const kind of CHAIN_FINDING_KINDS) {
    const count = counts.get(kind)!;
    if (count.findings === 0 || count.examples.length === 0) continue;
    out.write(`\n${kind}: ${KIND_MEANING[kind]}\n`);
    for (const example of count.examples) {
      const finding = example.findings[0]!;
      const where = `row ${example.row + 1}${example.id ? ` (${example.id})` : ''}${columns.length > 1 ? ` ${example.column}` : ''}, thought ${finding.index + 1}`;
      out.write(`  ${where}: ${quote(finding.thought, 100)} — ${finding.why}\n`);
    }
  }
  if (values.out) {
    const file = resolve(values.out);
    await writeOutput(file, perRow.map((r) => JSON.stringify(r) + '\n').join(''));
    out.write(`\nfindings per row: ${file}\n`);
  }
  return perRow.length === 0 ? 0 : 1;
}

function loadPolicies(ids: readonly string[]) {
  const config = loadConfig(process.env);
  const policies = PolicySet.load(builtinPoliciesDir, [...config.policiesDirs, userPoliciesDir(config.dataDir)]);
  try {
    return policies.select(ids);
  } catch (error) {
    if (error instanceof UnknownPolicyError) throw new UsageError(`--policy: ${error.message}`);
    throw error;
  }
}

function findingsTable(counts: Map<ChainFindingKind, { findings: number; rows: Set<number> }>, rows: number): string {
  const header = ['kind', 'thoughts', 'rows', 'share of rows'];
  const lines = CHAIN_FINDING_KINDS.map((kind) => {
    const c = counts.get(kind)!;
    return [kind, String(c.findings), String(c.rows.size), rows > 0 ? `${((100 * c.rows.size) / rows).toFixed(1)}%` : '–'];
  });
  const width = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(width[i]!) : cell.padStart(width[i]!))).join('  ');
  return [format(header), ...lines.map(format)].join('\n');
}
