import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  launchCommandOptions,
  runCommandOptions,
  statusCommandOptions,
  transformCommandOptions,
  uploadCommandOptions,
  waitCommandOptions,
} from '../../src/cli/command-options.js';
import type { Args } from '../../src/cli/context.js';
import { REPEATABLE, SAME_ONLY } from '../../src/cli/flags.js';
import { buildParser, type CommandName } from '../../src/cli/parser.js';
import { sendCommandOptions } from '../../src/cli/commands/send.js';
import { CLI } from '../helpers/cli.js';

// Every single-value flag of every command, read through the real command line (yargs + the
// options layer), given once, twice with the same value and twice with different values. A review
// found `--tz X --tz X` falling back to UTC: the typed options of "twice" must equal those of
// "once with the last value", and two different values must give different options (so a flag
// silently ignored cannot pass). Flags that decide where data or the key goes refuse two
// different values instead.

const NOW = new Date('2026-12-07T00:00:00Z');
const ENV = { JOB_COMPLETION_INDEX: '1' };

const READERS: Record<CommandName, (a: Args) => unknown> = {
  transform: (a) => transformCommandOptions(a, ENV, NOW, 'transform'),
  preview: (a) => transformCommandOptions(a, ENV, NOW, 'preview'),
  run: (a) => runCommandOptions(a, ENV, NOW),
  upload: uploadCommandOptions,
  launch: launchCommandOptions,
  wait: waitCommandOptions,
  status: statusCommandOptions,
  send: sendCommandOptions,
};

/** What yargs hands the command for argv (defaults included), through the real parser. */
async function yargsArgs(argv: string[]): Promise<Args> {
  let got: Args | undefined;
  const keep = async (a: Args) => {
    got = a;
  };
  const handlers = Object.fromEntries(Object.keys(READERS).map((k) => [k, keep])) as Record<CommandName, (a: Args) => Promise<void>>;
  let usage: string | undefined;
  await buildParser(argv, handlers, (msg) => {
    usage = msg;
  }).parseAsync();
  if (usage !== undefined) throw new Error(`usage: ${usage}`);
  return got!;
}

/** The typed options (or the error) for yargs' arguments with `flag` set as yargs sets it. */
function read(command: CommandName, base: Args, flag: string, value: string | string[]): { options?: unknown; error?: Error } {
  try {
    return { options: READERS[command]({ ...base, [flag]: value }) };
  } catch (e) {
    return { error: e as Error };
  }
}

/** The single-value options a command's --help lists: not boolean, not repeatable, not positional. */
function singleValueFlags(command: string): string[] {
  const help = execFileSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8' });
  // an option's first line starts at column 2 (-o, --out) or 6 (--tz); wrapped text is indented further
  const blocks = help.split(/\n(?= {2}-\w, --| {6}--[a-z])/).slice(1);
  return blocks
    .map((b) => ({ flag: /--([a-z-]+)/.exec(b)![1]!, boolean: b.includes('[boolean]') }))
    .filter((o) => !o.boolean && !REPEATABLE.has(o.flag) && o.flag !== 'help' && o.flag !== 'version')
    .map((o) => o.flag);
}

/** The options without the note of repeats: "twice" must equal "once" in everything else. */
const strip = (o: unknown) => {
  const { repeats: _repeats, ...rest } = o as Record<string, unknown>;
  return rest;
};

/** `dropFor`: with that value, the base leaves out that flag (--sink api takes no --to). */
type Flag = { flag: string; values: [string, string]; base?: string[]; drop?: string; dropFor?: Record<string, string> };

/** Two valid, different, non-default values for each flag; `base` adds what the flag needs. */
const TRANSFORM_FLAGS: Flag[] = [
  { flag: 'out', values: ['o1', 'o2'] },
  { flag: 'import-at', values: ['2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z'] },
  { flag: 'max-delay', values: ['1d', '3d'] },
  { flag: 'clamp-age', values: ['350d', '355d'] },
  { flag: 'clamp-mode', values: ['monotone', 'keep'] },
  { flag: 'future-tolerance', values: ['1m', '10m'] },
  { flag: 'min-time', values: ['2001-01-01T00:00:00Z', '2002-01-01T00:00:00Z'] },
  { flag: 'tz', values: ['America/New_York', 'Europe/Berlin'] },
  { flag: 'time-format', values: ['unix-ms', 'iso'] },
  { flag: 'count-column', values: ['count', 'n'] },
  { flag: 'first-column', values: ['first', 'f'], base: ['--count-column', 'count'] },
  { flag: 'last-column', values: ['last', 'l'], base: ['--count-column', 'count'] },
  { flag: 'max-count', values: ['10', '20'] },
  { flag: 'original-time-param', values: ['orig', 'original'] },
  { flag: 'max-reject-rate', values: ['0.5', '0.9'] },
  { flag: 'delimiter', values: [';', 'tab'] },
  { flag: 'max-part-bytes', values: ['1MB', '2MiB'] },
  { flag: 'max-record-bytes', values: ['8MB', '16384'] },
  { flag: 'order', values: ['input', 'user'] },
  { flag: 'sort-memory', values: ['32MB', '64MiB'] },
  { flag: 'shard', values: ['0/4', '1/4'] },
  { flag: 'shard-count', values: ['3', '4'], base: ['--shard', 'auto'] },
  { flag: 'format', values: ['ndjson', 'csv'] },
  { flag: 'preset', values: ['mixpanel', 'segment'] },
  { flag: 'anonymous', values: ['device_id', 'anonymousId'] },
  { flag: 'source-tz', values: ['Europe/Paris', 'Asia/Tokyo'] },
  { flag: 'scan-records', values: ['5', '50'] },
  { flag: 'dedupe-key', values: ['$insert_id', 'uuid'], base: ['--dedupe'] },
  { flag: 'encoding', values: ['latin1', 'utf-16le'] },
  { flag: 'kind', values: ['totals', 'users'] },
  { flag: 'canary', values: ['5', '50'] },
  { flag: 'log-format', values: ['json', 'text'] },
];

const CLOUD_FLAGS: Flag[] = [
  { flag: 'to', values: ['gs://bucket-one/a', 'gs://bucket-two/b'] },
  { flag: 'bucket', values: ['bucket-one', 'bucket-two'], drop: 'to' },
  { flag: 'prefix', values: ['p1', 'p2'], base: ['--bucket', 'bucket-x'], drop: 'to' },
  { flag: 'chunk-size', values: ['256KiB', '8MB'] },
  { flag: 'app-id', values: ['app1', 'app2'] },
  { flag: 'api-url', values: ['http://127.0.0.1:1/api', 'http://127.0.0.1:2/api'] },
  { flag: 'client-key-file', values: ['k1', 'k2'] },
  { flag: 'timeout', values: ['1h', '2h'] },
  { flag: 'poll-interval', values: ['5s', '30s'] },
  { flag: 'state-to', values: ['gs://state-one/a', 'gs://state-two/b'] },
  { flag: 'canary-max-failures', values: ['1', '2'] },
];

const COMMANDS: { name: string; base: string[]; flags: Flag[] }[] = [
  { name: 'transform', base: ['transform', 'in.csv', '--out', 'o'], flags: TRANSFORM_FLAGS },
  { name: 'preview', base: ['preview', 'in.csv', '--out', 'o'], flags: [...TRANSFORM_FLAGS, { flag: 'sample', values: ['10', '20'] }] },
  {
    name: 'run',
    base: ['run', 'in.csv', '--out', 'o', '--to', 'gs://bucket-x/p'],
    flags: [
      ...TRANSFORM_FLAGS,
      ...CLOUD_FLAGS,
      { flag: 'sink', values: ['csv-job', 'api'], dropFor: { api: 'to' } },
      { flag: 'concurrency', values: ['2', '8'] },
      { flag: 'max-rps', values: ['5', '10'] },
    ],
  },
  {
    name: 'upload',
    base: ['upload', 'd', '--to', 'gs://bucket-x/p'],
    flags: CLOUD_FLAGS.filter((f) => ['to', 'bucket', 'prefix', 'chunk-size'].includes(f.flag)),
  },
  { name: 'launch', base: ['launch', 'd'], flags: CLOUD_FLAGS.filter((f) => ['app-id', 'api-url', 'client-key-file', 'canary-max-failures'].includes(f.flag)) },
  {
    name: 'wait',
    base: ['wait', 'd'],
    flags: CLOUD_FLAGS.filter((f) => ['app-id', 'api-url', 'client-key-file', 'timeout', 'poll-interval'].includes(f.flag)),
  },
  { name: 'status', base: ['status', 'd'], flags: CLOUD_FLAGS.filter((f) => ['app-id', 'api-url', 'client-key-file'].includes(f.flag)) },
];

// the flag under test replaces a value the base already gives
const without = (base: string[], flag: string) => {
  const i = base.indexOf(`--${flag}`);
  return i < 0 ? base : [...base.slice(0, i), ...base.slice(i + 2)];
};

/** The flags a case needs besides its own (`--count-column count`, `--dedupe`), as yargs would set them. */
function withExtra(base: Args, extra: readonly string[], drop: string | undefined): Args {
  const out = { ...base };
  if (drop !== undefined) delete out[drop];
  for (let i = 0; i < extra.length; i++) {
    const name = extra[i]!.slice(2);
    const next = extra[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[name] = next;
      i++;
    } else out[name] = true;
  }
  return out;
}

describe('a single-value flag given once, twice alike, twice different', () => {
  it('covers every single-value option of every command (the table above is complete)', () => {
    for (const c of COMMANDS) {
      const tested = new Set([...c.flags.map((f) => f.flag), 'log-format']);
      const listed = singleValueFlags(c.name);
      expect(listed.length).toBeGreaterThan(2);
      expect(listed.filter((f) => !tested.has(f)).sort(), c.name).toEqual([]);
    }
  });

  // yargs is slow to build (≈0.1–0.3 s a parse), so it runs once per command with every flag
  // repeated, to show what it hands over; the property then feeds that shape to the options layer
  const bases = new Map<string, Args>();
  it('yargs hands a repeated single-value flag over as the list of its values, for every flag', async () => {
    for (const c of COMMANDS) {
      let argv = c.base;
      for (const f of c.flags) argv = without(argv, f.flag);
      const twice = await yargsArgs([
        ...argv,
        ...c.flags.filter((f) => f.drop === undefined).flatMap((f) => [`--${f.flag}`, f.values[0], `--${f.flag}`, f.values[1]]),
      ]);
      for (const f of c.flags.filter((f) => f.drop === undefined)) expect(twice[f.flag], `${c.name} --${f.flag}`).toEqual([...f.values]);
      bases.set(c.name, await yargsArgs(c.base));
    }
  });

  const cases = COMMANDS.flatMap((c) => c.flags.map((f) => ({ command: c.name as CommandName, ...f })));
  it('once: each value reaches the options; twice alike = once; twice different = the last (or refused where it decides a destination)', async () => {
    for (const c of COMMANDS) if (!bases.has(c.name)) bases.set(c.name, await yargsArgs(c.base));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.boolean(), (c, swap) => {
        const [first, last] = swap ? [c.values[1], c.values[0]] : c.values;
        const base = withExtra(bases.get(c.command)!, c.base ?? [], c.drop);
        const baseFor = (v: string) => (c.dropFor?.[v] === undefined ? base : withExtra(base, [], c.dropFor[v]));
        const once = read(c.command, baseFor(last), c.flag, last);
        const other = read(c.command, baseFor(first), c.flag, first);
        expect(once.error, `${c.command} --${c.flag} ${last}`).toBeUndefined();
        expect(other.error, `${c.command} --${c.flag} ${first}`).toBeUndefined();
        // the value matters: a flag that fell back to its default would give equal options
        expect(strip(once.options)).not.toEqual(strip(other.options));

        const alike = read(c.command, baseFor(last), c.flag, [last, last]);
        expect(alike.error).toBeUndefined();
        expect(strip(alike.options)).toEqual(strip(once.options));
        expect((alike.options as { repeats: unknown[] }).repeats).toEqual([]);

        const differ = read(c.command, baseFor(last), c.flag, [first, last]);
        if (SAME_ONLY.has(c.flag)) {
          expect(differ.error?.message).toMatch(new RegExp(`${c.flag}: given 2 times with different values`));
        } else {
          expect(differ.error).toBeUndefined();
          expect(strip(differ.options)).toEqual(strip(once.options));
          expect((differ.options as { repeats: unknown[] }).repeats).toEqual([{ flag: c.flag, values: [first, last], used: last }]);
        }
      }),
      { numRuns: 600 },
    );
  });
});
