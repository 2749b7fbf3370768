#!/usr/bin/env node
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { buildTransformConfig } from '../config.js';
import { BackfillError, exitCodeOf } from '../errors.js';
import { runTransform } from '../pipeline/transform.js';
import { TOOL } from '../version.js';
import { rawTransformOptions, withTransformOptions } from './options.js';
import { renderTransformSummary } from './render.js';

type Args = Record<string, unknown>;

// yargs-parser reads a lone "-" as an empty flag; carry it through under a name of its own.
const STDIN = '\0stdin';
const argv = hideBin(process.argv).map((x) => (x === '-' ? STDIN : x));
const inputOf = (a: Args) => (a['input'] === STDIN ? '-' : String(a['input']));

async function transform(a: Args): Promise<number> {
  const input = inputOf(a);
  const cfg = buildTransformConfig(rawTransformOptions(a, input), new Date());
  const source = input === '-' ? { name: '-', bytes: undefined, stream: process.stdin } : undefined;
  const { summary } = await runTransform(cfg, source ? { source } : {});
  process.stdout.write(renderTransformSummary(summary, cfg.outDir) + '\n');
  if (summary.rejectRateExceeded) {
    throw new BackfillError('REJECT_RATE', `${summary.counts.rejected} of ${summary.counts.read} rows were rejected (${(summary.rejectRate * 100).toFixed(2)}%), above --max-reject-rate ${summary.config.maxRejectRate}`, `All outputs were written. Look at ${cfg.outDir}/rejects.csv, fix the mapping or the data, or raise --max-reject-rate.`);
  }
  return 0;
}

function reportError(e: unknown): number {
  if (e instanceof BackfillError) {
    process.stderr.write(`lp-backfill: error [${e.code}]: ${e.message}\n`);
    if (e.hint !== undefined) process.stderr.write(`  how to fix: ${e.hint}\n`);
    return exitCodeOf(e.code);
  }
  process.stderr.write(`lp-backfill: internal error (a bug; please report it): ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

let exitCode = 0;
const run = (fn: (a: Args) => Promise<number>) => async (a: Args) => {
  try {
    exitCode = await fn(a);
  } catch (e) {
    exitCode = reportError(e);
  }
};

const inputPositional = <T,>(y: Argv<T>) =>
  y.positional('input', { type: 'string', demandOption: true, describe: 'CSV/TSV export: a path, a .gz file, or - for standard input' });

await yargs(argv)
  .scriptName('lp-backfill')
  .usage('$0 <command> [options]\n\nLoad historical events into Leanplum once, correctly.')
  .command('transform <input>', 'Stream an export into a Leanplum-ready clean.csv, rejects.csv and summary.json', (y) => withTransformOptions(inputPositional(y)), run(transform))
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
