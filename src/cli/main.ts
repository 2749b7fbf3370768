#!/usr/bin/env node
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BackfillError, exitCodeOf, ioFailure } from '../errors.js';
import { TOOL } from '../version.js';
import { withLaunch, withLeanplum, withState, withTarget, withWait } from './cloud-options.js';
import { STDIN, withInput, type Args } from './context.js';
import { withTransformOptions } from './options.js';

// Command modules load on demand: a transform never pays for the GCS and Leanplum clients.
const transformCmd = () => import('./commands/transform.js');
const cloudCmd = () => import('./commands/cloud.js');

const debug = process.argv.includes('--debug');

/** The stack and the cause chain, for --debug only: a user needs the one line above it. */
function debugTrace(e: unknown): string {
  let out = '';
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 10; x = x.cause, depth++)
    out += `${depth === 0 ? '' : 'caused by: '}${x.stack ?? x.message}\n`;
  return out;
}

function reportError(e: unknown): number {
  const known = e instanceof BackfillError ? e : ioFailure(e);
  if (known !== undefined) {
    process.stderr.write(`lp-backfill: error [${known.code}]: ${known.message}\n`);
    if (known.hint !== undefined) process.stderr.write(`  how to fix: ${known.hint}\n`);
    if (debug) process.stderr.write(debugTrace(e));
    return exitCodeOf(known.code);
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

const withDir = <T>(y: Argv<T>) => y.positional('dir', { type: 'string', demandOption: true, describe: 'Run directory (the --out of transform/run)' });

const argv = hideBin(process.argv).map((x) => (x === '-' ? STDIN : x));

await yargs(argv)
  .scriptName('lp-backfill')
  .usage(
    '$0 <command> [options]\n\nLoad historical events into Leanplum once, correctly. Exit codes: 0 ok, 1 bug, 2 usage/config/input, 3 too many rejected rows, 4 GCS/Leanplum error, 5 import job failed or had row failures.',
  )
  .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress or log lines on stderr' })
  .option('log-format', { choices: ['text', 'json'], default: 'text', describe: 'stderr logs as text or NDJSON events (for CI)' })
  .option('debug', { type: 'boolean', default: false, describe: 'On an error, also print its stack trace and causes' })
  .command(
    'transform <input..>',
    'Stream an export into a Leanplum-ready clean.csv, rejects.csv, summary.json and the preview report',
    (y) =>
      withTransformOptions(withInput(y)).option('report', {
        type: 'boolean',
        default: true,
        describe: 'Write report.json and report.html (--no-report to skip)',
      }),
    handle(async (a) => (await transformCmd()).transformCommand(a, 'transform')),
  )
  .command(
    'preview <input..>',
    'Transform and write report.json + report.html to show a colleague before anything reaches Leanplum',
    (y) => withTransformOptions(withInput(y)).option('sample', { type: 'number', describe: 'Only the first n input rows, for a quick look' }),
    handle(async (a) => (await transformCmd()).transformCommand(a, 'preview')),
  )
  .command(
    'upload <dir>',
    'Upload the clean CSV part(s) of a run directory to GCS (resumable, crc32c-checked, never overwrites)',
    (y) => withTarget(withDir(y)),
    handle(async (a) => (await cloudCmd()).uploadCommand(a)),
  )
  .command(
    'launch <dir>',
    'Launch one Leanplum import job per uploaded part (at most once)',
    (y) => withLaunch(withDir(y)),
    handle(async (a) => (await cloudCmd()).launchCommand(a)),
  )
  .command(
    'status <dir..>',
    'Show the state of one run or many (shards): run directories or --state-to URLs; asks Leanplum once about unfinished jobs (read-only)',
    (y) => withLeanplum(y.positional('dir', { type: 'string', array: true, demandOption: true, describe: 'Run directories and/or gs://… state URLs' })),
    handle(async (a) => (await cloudCmd()).statusCommand(a)),
  )
  .command(
    'wait <dir>',
    'Follow the job(s) to FINISHED or FAILED, then summarise the results',
    (y) => withWait(withDir(y)),
    handle(async (a) => (await cloudCmd()).waitCommand(a)),
  )
  .command(
    'run <input..>',
    'transform → report → upload → launch → wait; run it again on the same --out to resume',
    (y) => withState(withWait(withLaunch(withTarget(withTransformOptions(withInput(y)))))),
    handle(async (a) => (await cloudCmd()).runCommand(a)),
  )
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
