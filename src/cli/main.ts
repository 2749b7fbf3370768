#!/usr/bin/env node
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BackfillError, exitCodeOf } from '../errors.js';
import { TOOL } from '../version.js';
import { transformCommand } from './commands/transform.js';
import { STDIN, withInput, type Args } from './context.js';
import { launchCommand, runCommand, uploadCommand, waitCommand, withLaunch, withTarget, withWait } from './commands/cloud.js';
import { withTransformOptions } from './options.js';

function reportError(e: unknown): number {
  if (e instanceof BackfillError) {
    process.stderr.write(`lp-backfill: error [${e.code}]: ${e.message}\n`);
    if (e.hint !== undefined) process.stderr.write(`  how to fix: ${e.hint}\n`);
    return exitCodeOf(e.code);
  }
  process.stderr.write(`lp-backfill: internal error (a bug; please report it): ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

// `lp-backfill … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

let exitCode = 0;
const handle = (fn: (a: Args) => Promise<unknown>) => async (a: Args) => {
  try {
    await fn(a);
  } catch (e) {
    exitCode = reportError(e);
  }
};

const withDir = <T,>(y: Argv<T>) => y.positional('dir', { type: 'string', demandOption: true, describe: 'Run directory (the --out of transform/run)' });

const argv = hideBin(process.argv).map((x) => (x === '-' ? STDIN : x));

await yargs(argv)
  .scriptName('lp-backfill')
  .usage('$0 <command> [options]\n\nLoad historical events into Leanplum once, correctly. Exit codes: 0 ok, 1 bug, 2 usage/config/input, 3 too many rejected rows, 4 GCS/Leanplum error, 5 import job failed or had row failures.')
  .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress or log lines on stderr' })
  .option('log-format', { choices: ['text', 'json'], default: 'text', describe: 'stderr logs as text or NDJSON events (for CI)' })
  .command(
    'transform <input..>',
    'Stream an export into a Leanplum-ready clean.csv, rejects.csv, summary.json and the preview report',
    (y) => withTransformOptions(withInput(y)).option('report', { type: 'boolean', default: true, describe: 'Write report.json and report.html (--no-report to skip)' }),
    handle((a) => transformCommand(a, 'transform')),
  )
  .command(
    'preview <input..>',
    'Transform and write report.json + report.html to show a colleague before anything reaches Leanplum',
    (y) => withTransformOptions(withInput(y)).option('sample', { type: 'number', describe: 'Only the first n input rows, for a quick look' }),
    handle((a) => transformCommand(a, 'preview')),
  )
  .command('upload <dir>', 'Upload the clean CSV part(s) of a run directory to GCS (resumable, crc32c-checked, never overwrites)',
    (y) => withTarget(withDir(y)), handle(uploadCommand))
  .command('launch <dir>', 'Launch one Leanplum import job per uploaded part (at most once)',
    (y) => withTarget(withLaunch(withDir(y))), handle(launchCommand))
  .command('status <dir>', 'Ask Leanplum once for the state of the run\'s job(s)',
    (y) => withWait(withTarget(withDir(y))), handle((a) => waitCommand(a, true)))
  .command('wait <dir>', 'Follow the job(s) to FINISHED or FAILED, then summarise the results',
    (y) => withWait(withTarget(withDir(y))), handle((a) => waitCommand(a, false)))
  .command('run <input..>', 'transform → report → upload → launch → wait; run it again on the same --out to resume',
    (y) => withWait(withLaunch(withTarget(withTransformOptions(withInput(y))))), handle(runCommand))
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .version(TOOL.version)
  .help()
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(`lp-backfill: usage error: ${msg}\nRun lp-backfill --help for the commands and options.\n`);
    process.exit(2);
  })
  .parseAsync();
process.exitCode = exitCode;
