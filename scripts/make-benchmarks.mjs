// Writes benchmarks/<name>.jsonl: the id and prompt columns of each benchmark file, one JSON object a
// line. Run after `npm run build`: node scripts/make-benchmarks.mjs PATH/TO/datasets
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../dist/inputs/csv.js';

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
