#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hideBin } from 'yargs/helpers';
import { BackfillError, exitCodeOf, ioFailure } from '../errors.js';
import {
  launchCommandOptions,
  runCommandOptions,
  statusCommandOptions,
  transformCommandOptions,
  uploadCommandOptions,
  waitCommandOptions,
} from './command-options.js';
import { STDIN, type Args } from './context.js';
import { buildParser } from './parser.js';

// Command modules load on demand: a transform never pays for the GCS and Leanplum clients.
const transformCmd = () => import('./commands/transform.js');
const cloudCmd = () => import('./commands/cloud.js');
const sendCmd = () => import('./commands/send.js');

const argv = hideBin(process.argv).map((x) => (x === '-' ? STDIN : x));
const debug = argv.includes('--debug');

/** The last --log-format given (the repeat rule), read here too: a usage error comes before yargs' result. */
function logFormat(): 'text' | 'json' {
  let f = 'text';
  argv.forEach((x, i) => {
    if (x === '--log-format' && argv[i + 1] !== undefined) f = argv[i + 1]!;
    else if (x.startsWith('--log-format=')) f = x.slice('--log-format='.length);
  });
  return f === 'json' ? 'json' : 'text';
}

/** The stack and the cause chain, for --debug only: a user needs the one line above it. */
function debugTrace(e: unknown): string {
  let out = '';
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 10; x = x.cause, depth++)
    out += `${depth === 0 ? '' : 'caused by: '}${x.stack ?? x.message}\n`;
  return out;
}

function reportError(e: unknown): number {
  const known = e instanceof BackfillError ? e : ioFailure(e);
  const json = logFormat() === 'json';
  if (known !== undefined) {
    const exitCode = exitCodeOf(known.code);
    if (json) {
      process.stderr.write(
        JSON.stringify({ event: 'error', code: known.code, exitCode, message: known.message, ...(known.hint !== undefined ? { hint: known.hint } : {}) }) +
          '\n',
      );
    } else {
      process.stderr.write(`lp-backfill: error [${known.code}]: ${known.message}\n`);
      if (known.hint !== undefined) process.stderr.write(`  how to fix: ${known.hint}\n`);
    }
    if (debug) process.stderr.write(debugTrace(e));
    return exitCode;
  }
  const trace = (e as Error)?.stack ?? String(e);
  if (json)
    process.stderr.write(
      JSON.stringify({ event: 'error', code: 'INTERNAL', exitCode: 1, message: `internal error (a bug; please report it): ${trace}` }) + '\n',
    );
  else process.stderr.write(`lp-backfill: internal error (a bug; please report it): ${trace}\n`);
  return 1;
}

function usageError(msg: string): never {
  if (logFormat() === 'json') process.stderr.write(JSON.stringify({ event: 'error', code: 'USAGE', exitCode: 2, message: msg }) + '\n');
  else process.stderr.write(`lp-backfill: usage error: ${msg}\nRun lp-backfill --help for the commands and options.\n`);
  process.exit(2);
}

// `lp-backfill … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

let exitCode = 0;
/** Every flag is read and checked (exit 2, nothing done) before the command starts any work. */
const handle = (fn: (a: Args) => Promise<unknown>) => async (a: Args) => {
  try {
    await fn(a);
  } catch (e) {
    exitCode = reportError(e);
  }
};

await buildParser(
  argv,
  {
    transform: handle(async (a) => {
      const o = transformCommandOptions(a, process.env, new Date(), 'transform');
      await (await transformCmd()).transformCommand(o, 'transform');
    }),
    preview: handle(async (a) => {
      const o = transformCommandOptions(a, process.env, new Date(), 'preview');
      await (await transformCmd()).transformCommand(o, 'preview');
    }),
    upload: handle(async (a) => (await cloudCmd()).uploadCommand(uploadCommandOptions(a))),
    launch: handle(async (a) => (await cloudCmd()).launchCommand(launchCommandOptions(a))),
    status: handle(async (a) => (await cloudCmd()).statusCommand(statusCommandOptions(a))),
    wait: handle(async (a) => (await cloudCmd()).waitCommand(waitCommandOptions(a))),
    send: handle(async (a) => {
      const send = await sendCmd();
      await send.sendCommand(send.sendCommandOptions(a));
    }),
    run: handle(async (a) => {
      const out = ([] as unknown[])
        .concat(a['out'] ?? [])
        .map(String)
        .at(-1);
      const o = runCommandOptions(a, process.env, new Date(), {
        tty: process.stdin.isTTY === true && process.stderr.isTTY === true,
        existingRun: out !== undefined && existsSync(join(out, 'manifest.json')),
      });
      await (await cloudCmd()).runCommand(o);
    }),
  },
  usageError,
).parseAsync();
process.exitCode = exitCode;
