import type { Argv } from 'yargs';
import type { InputSource } from '../input/open-input.js';
import { shellWord } from '../run/advice.js';
import { progressReporter, type LogFormat } from './progress.js';

export type Args = Record<string, unknown>;

// yargs-parser reads a lone "-" as an empty flag; the entry point renames it to this.
export const STDIN = '\0stdin';
export const inputsOf = (a: Args): string[] => ([] as unknown[]).concat(a['input'] ?? []).map((x) => (x === STDIN ? '-' : String(x)));
export const stdinSource = (inputs: readonly string[]): InputSource | undefined =>
  inputs.length === 1 && inputs[0] === '-' ? { name: '-', bytes: undefined, stream: process.stdin } : undefined;

export const withInput = <T>(y: Argv<T>) =>
  y.positional('input', {
    type: 'string',
    array: true,
    demandOption: true,
    describe:
      'Export file(s), read one after the other: CSV/TSV, NDJSON, JSON array, zip (of any of these), Parquet, each also .gz; gs://bucket/path (or a prefix or * pattern); or - for standard input',
  });

export function progressFor(o: { quiet: boolean; logFormat: LogFormat }) {
  return progressReporter({
    quiet: o.quiet,
    format: o.logFormat,
    tty: process.stderr.isTTY === true,
    write: (s) => process.stderr.write(s),
  });
}

/** NDJSON event lines for --log-format json; plain text otherwise. */
export function logEvent(o: { quiet: boolean; logFormat: LogFormat }, event: string, fields: Record<string, unknown>, text: string): void {
  if (o.quiet) return;
  if (o.logFormat === 'json') process.stderr.write(JSON.stringify({ event, ...fields }) + '\n');
  else process.stderr.write(text + '\n');
}

/** This very command as typed (each word quoted for a POSIX shell), with `extra` flags added: advice that runs as printed. */
export function againCommand(extra: readonly string[], argv: readonly string[] = process.argv.slice(2)): string {
  return ['lp-backfill', ...argv, ...extra.filter((x) => !argv.includes(x))].map((w, i) => (i === 0 ? w : shellWord(w))).join(' ');
}
