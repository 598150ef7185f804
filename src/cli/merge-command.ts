import { mergeDataFolders, type MergeCounts } from '../store/merge.js';
import { UsageError } from './commands.js';
import { parseFlags } from './options.js';
import { COMMANDS } from './usage.js';

/** `aidsafe-mcp merge`: shards' data folders into one, so one export and one report cover the whole job. */
export async function mergeCommand(argv: string[]): Promise<number> {
  // `--from a b c` as well as `--from a --from b`, so a shell glob (--from shards/*) works.
  const { values, positionals } = parseFlags('merge', COMMANDS.merge, argv);
  if (!values.from?.length) throw new UsageError('--from DIR… is required: the data folders to merge');
  if (!values.into) throw new UsageError('--into DIR is required: the data folder to merge into (made if missing)');
  const report = await mergeDataFolders([...values.from, ...positionals], values.into);
  const line = (what: string, c: MergeCounts, unit: string) =>
    `${what}: ${c.copied} copied, ${c.skipped} already present${c.updated ? `, ${c.updated} updated` : ''}; ${c.total} ${unit} in ${report.into}\n`;
  process.stderr.write(line('records', report.records, 'records'));
  process.stderr.write(line('runs', report.runs, 'runs'));
  process.stderr.write(line('request cache', report.cache, 'files'));
  for (const job of report.jobs) {
    process.stderr.write(
      `run ${job.run_id} (${job.result}): ${job.done} done, ${job.failed} failed of ${job.total}, from ${job.from.join(', ')}` +
        (job.missing_shards.length ? `; missing shards ${job.missing_shards.join(', ')}` : '') +
        '\n',
    );
  }
  for (const id of report.replaced_runs) process.stderr.write(`run ${id} removed: made by an earlier merge from one shard alone, now part of the run of the id its shards share\n`);
  if (report.links.length) process.stderr.write(`skipped ${report.links.length} symbolic link${report.links.length === 1 ? '' : 's'} (merge copies no links): ${report.links.join(', ')}\n`);
  process.stdout.write(JSON.stringify(report) + '\n');
  return 0;
}
