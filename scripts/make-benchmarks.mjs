// Writes benchmarks/<name>.jsonl: the id and prompt columns of each benchmark file, one JSON object a
// line. Run after `npx tsc -p tsconfig.bench.json` (which compiles src/ module by module):
// node scripts/make-benchmarks.mjs PATH/TO/datasets
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../.bench-build/src/inputs/csv.js';

const SETS = [
  { name: 'xstest', file: 'xstest_prompts.csv', id: 'id', prompt: 'prompt' },
  { name: 'strongreject', file: 'strongreject_dataset.csv', id: null, prompt: 'forbidden_prompt' },
  { name: 'harmbench', file: 'harmbench_behaviors_text_all.csv', id: 'BehaviorID', prompt: 'Behavior' },
  { name: 'advbench', file: 'advbench_harmful_behaviors.csv', id: null, prompt: 'goal' },
  { name: 'donotanswer', file: 'do_not_answer_data.csv', id: 'id', prompt: 'question' },
];

const from = process.argv[2];
if (!from) throw new Error('usage: node scripts/make-benchmarks.mjs DATASETS_DIR');
for (const set of SETS) {
  const [header, ...rows] = parseCsv(readFileSync(join(from, set.file), 'utf8'));
  const col = (name) => header.indexOf(name);
  const lines = rows.map((row, i) => JSON.stringify({ id: set.id ? row[col(set.id)] : String(i + 1), prompt: row[col(set.prompt)] }));
  writeFileSync(join('benchmarks', `${set.name}.jsonl`), lines.join('\n') + '\n');
  console.log(set.name, lines.length);
}

// benchmarks/suites/<name>.jsonl: what `eval` reads, the columns its suites use, under their own names,
// so the package evaluates without the original files. HarmBench: the test split, with its contexts.
const SUITES = [
  { name: 'xstest', file: 'xstest_prompts.csv', columns: ['id', 'prompt', 'type', 'label'] },
  { name: 'strongreject', file: 'strongreject_dataset.csv', columns: ['category', 'source', 'forbidden_prompt'] },
  { name: 'harmbench', file: 'harmbench_behaviors_text_test.csv', columns: ['BehaviorID', 'Behavior', 'SemanticCategory', 'ContextString'] },
  { name: 'advbench', file: 'advbench_harmful_behaviors.csv', columns: ['goal'] },
  { name: 'donotanswer', file: 'do_not_answer_data.csv', columns: ['id', 'risk_area', 'question'] },
];
mkdirSync(join('benchmarks', 'suites'), { recursive: true });
for (const suite of SUITES) {
  const [header, ...rows] = parseCsv(readFileSync(join(from, suite.file), 'utf8'));
  const lines = rows.map((row) => JSON.stringify(Object.fromEntries(suite.columns.map((c) => [c, row[header.indexOf(c)] ?? '']))));
  writeFileSync(join('benchmarks', 'suites', `${suite.name}.jsonl`), lines.join('\n') + '\n');
  console.log('suite', suite.name, lines.length);
}
