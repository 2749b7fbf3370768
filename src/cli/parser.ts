import yargs, { type Argv } from 'yargs';
import { TOOL } from '../version.js';
import { withLaunch, withLeanplum, withState, withTarget, withWait } from './cloud-options.js';
import { withInput, type Args } from './context.js';
import { withSend, withSink } from './send-options.js';
import { withTransformOptions } from './options.js';

export type CommandName = 'transform' | 'preview' | 'upload' | 'launch' | 'status' | 'wait' | 'run' | 'send';

/** What each command does with its parsed arguments (main.ts runs them; tests capture them). */
export type Handlers = Record<CommandName, (a: Args) => Promise<void>>;

const withDir = <T>(y: Argv<T>) => y.positional('dir', { type: 'string', demandOption: true, describe: 'Run directory (the --out of transform/run)' });

/** The whole command line, without running anything: the same parser for main.ts and the tests. */
export function buildParser(argv: readonly string[], handlers: Handlers, onUsageError: (msg: string) => void) {
  const parser = yargs([...argv])
    .scriptName('lp-backfill')
    .usage(
      '$0 <command> [options]\n\nLoad historical events into Leanplum once, correctly. Exit codes: 0 ok, 1 bug, 2 usage/config/input (nothing was sent), 3 too many rejected rows, 4 GCS/Leanplum error, 5 import job failed or had row failures.\nA single-value option given twice: the last value is used (said in the summary); --out, --to, --bucket, --prefix, --state-to, --app-id, --api-url, --client-key-file, --shard, --shard-count must not differ.',
    )
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress or log lines on stderr' })
    .option('log-format', {
      choices: ['text', 'json'],
      defaultDescription: 'text',
      describe: 'stderr logs as text or NDJSON events, the final error included (for CI)',
    })
    .option('debug', { type: 'boolean', default: false, describe: 'On an error, also print its stack trace and causes' })
    .command(
      'transform <input..>',
      'Stream an export into a Leanplum-ready clean.csv, rejects.csv, summary.json and the preview report',
      (y) =>
        withTransformOptions(withInput(y))
          .option('report', { type: 'boolean', default: true, describe: 'Write report.json and report.html (--no-report to skip)' })
          .group(['report'], 'Output:'),
      handlers.transform,
    )
    .command(
      'preview <input..>',
      'Transform and write report.json + report.html to show a colleague before anything reaches Leanplum',
      (y) =>
        withTransformOptions(withInput(y))
          .option('sample', { type: 'string', describe: 'Only the first n input rows, for a quick look' })
          .group(['sample'], 'Input:'),
      handlers.preview,
    )
    .command(
      'upload <dir>',
      'Upload the clean CSV part(s) of a run directory to GCS (resumable, crc32c-checked, never overwrites)',
      (y) => withTarget(withDir(y)),
      handlers.upload,
    )
    .command('launch <dir>', 'Launch one Leanplum import job per uploaded part (at most once)', (y) => withLaunch(withDir(y)), handlers.launch)
    .command(
      'status <dir..>',
      'Show the state of one run or many (shards): run directories or --state-to URLs; asks Leanplum once about unfinished jobs (read-only)',
      (y) => withLeanplum(y.positional('dir', { type: 'string', array: true, demandOption: true, describe: 'Run directories and/or gs://… state URLs' })),
      handlers.status,
    )
    .command(
      'send <dir>',
      'Send a transformed run directory to Leanplum through the JSON multi API (no bucket, Production key, per-row answers); run it again to resume',
      (y) => withState(withSend(withDir(y))),
      handlers.send,
    )
    .command('wait <dir>', 'Follow the job(s) to FINISHED or FAILED, then summarise the results', (y) => withWait(withDir(y)), handlers.wait)
    .command(
      'run <input..>',
      'transform → report → upload → launch → wait (with --sink api: transform → report → send); run it again on the same --out to resume',
      (y) => withSink(withState(withWait(withLaunch(withTarget(withTransformOptions(withInput(y))))))),
      handlers.run,
    )
    .demandCommand(1, 'Name a command; see --help.')
    .strict()
    .version(TOOL.version)
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      if (err) throw err;
      onUsageError(msg);
    });
  renderHelpOnlyWhenAsked(parser);
  return parser;
}

/**
 * yargs renders a command's whole help text after running its handler, in case the handler shows
 * help later (its `cacheHelpMessage`): 0.1–0.2 s of every run on a small machine, for a text this
 * CLI never shows then (usage errors go to onUsageError; --help renders it on its own, without
 * running a handler). The same switch the Angular CLI uses; if a yargs upgrade renames it, nothing
 * breaks but the start-up (test/unit/cli-startup.test.ts says so).
 */
function renderHelpOnlyWhenAsked(parser: object): void {
  const usage = (parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } })
    .getInternalMethods?.()
    .getUsageInstance?.();
  if (usage !== undefined && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}
