// Writes benchmarks/<name>.jsonl, one copy of each benchmark prompt set: one JSON object a line, the
// columns of the public file that eval or decontamination use, under their own names. `eval` reads these files as its suites and
// `--decontaminate` matches against their prompt column (src/eval/suites.ts says which column is which).
// HarmBench: the test split's rows, then the validation split's, each with a `split` column; eval takes
// the test rows, decontamination all of them. Do-Not-Answer: without the model responses of the original.
// Not kept: XSTest's focus and note, HarmBench's Tags, AdvBench's target.
// Run after `npx tsc -p tsconfig.bench.json` (which compiles src/ module by module):
//   node scripts/make-benchmarks.mjs PATH/TO/ORIGINAL/CSV/FILES
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../.bench-build/src/inputs/csv.js';

const SETS = [
  { name: 'xstest', files: ['xstest_prompts.csv'], columns: ['id', 'prompt', 'type', 'label'] },
  { name: 'strongreject', files: ['strongreject_dataset.csv'], columns: ['category', 'source', 'forbidden_prompt'] },
  {
    name: 'harmbench',
    files: ['harmbench_behaviors_text_test.csv', 'harmbench_behaviors_text_val.csv'],
    split: ['test', 'val'],
    columns: ['BehaviorID', 'Behavior', 'FunctionalCategory', 'SemanticCategory', 'ContextString'],
  },
  { name: 'advbench', files: ['advbench_harmful_behaviors.csv'], columns: ['goal'] },
  { name: 'donotanswer', files: ['do_not_answer_data.csv'], columns: ['id', 'risk_area', 'types_of_harm', 'specific_harms', 'question'] },
];

const from = process.argv[2];
if (!from) throw new Error('usage: node scripts/make-benchmarks.mjs DIR_OF_THE_ORIGINAL_CSV_FILES');
for (const set of SETS) {
  const lines = set.files.flatMap((file, f) => {
    const [header, ...rows] = parseCsv(readFileSync(join(from, file), 'utf8'));
    for (const c of set.columns) if (!header.includes(c)) throw new Error(`${file} has no column ${c}`);
    return rows.map((row) =>
      JSON.stringify({
        ...Object.fromEntries(set.columns.map((c) => [c, row[header.indexOf(c)] ?? ''])),
        ...(set.split ? { split: set.split[f] } : {}),
      }),
    );
  });
  writeFileSync(join('benchmarks', `${set.name}.jsonl`), lines.join('\n') + '\n');
  console.log(set.name, lines.length);
}
