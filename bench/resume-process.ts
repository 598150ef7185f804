// The resumed run of the resume benchmark, in a process of its own. Arguments: model server URL, data folder, input file.
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { BatchRun } from '../src/pipeline/batch.js';

const [url, dataDir, input] = process.argv.slice(2);
const config = loadConfig({ OPENAI_BASE_URL: url, AIDSAFE_MODEL: 'scripted-model', AIDSAFE_DATA_DIR: dataDir });
const ctx = await createContext({ config });
const run = await BatchRun.prepare(ctx, { inputPath: input!, concurrency: 64, grade: false, preference: false, agents: 2, maxRounds: 3, beliefRounds: 3, minMargin: 1, budgets: {}, runId: 'resume-bench' });
await run.start();
