import { BackfillError } from '../errors.js';

// How a flag given more than once is read. yargs hands a repeated flag over as an array; reading
// that array as "not a string" made `--tz X --tz X` fall back to the default (a review imported
// times 4 h off that way). Every single-value flag now goes through `FlagReader`.
//
// The rule (README "Options"): the last value wins, as in the `lp-backfill … defaults "$@"` idiom
// of wrapper scripts, and the printed summary says which value was used. Flags that decide WHERE
// data or the key goes (`SAME_ONLY`) must not depend on which copy wins: different values there
// are refused. Booleans follow yargs: the last of `--x` / `--no-x` wins.

/** Single-value flags that are refused when repeated with different values: destinations and identities. */
export const SAME_ONLY: ReadonlySet<string> = new Set([
  'out',
  'to',
  'bucket',
  'prefix',
  'state-to',
  'app-id',
  'api-url',
  'client-key-file',
  'shard',
  'shard-count',
]);

/** Flags whose value may be empty: the bucket's root is the prefix "". */
const MAY_BE_EMPTY: ReadonlySet<string> = new Set(['prefix']);

/** Flags that may be given many times, each value kept (read with `list`). */
export const REPEATABLE: ReadonlySet<string> = new Set(['map', 'param', 'params-from', 'relaunch-unknown', 'adopt-job', 'attr', 'drop-attr', 'rename-attr']);

export type Args = Record<string, unknown>;

/** A flag given more than once whose last value was used. */
export interface Repeat {
  flag: string;
  values: string[];
  used: string;
}

export const describeRepeat = (r: Repeat): string =>
  `--${r.flag} given ${r.values.length} times (${r.values.map((v) => JSON.stringify(v)).join(', ')}): the last one was used`;

/** Reads flags from yargs' arguments, collecting every problem instead of stopping at the first. */
export class FlagReader {
  readonly problems: string[] = [];
  readonly repeats: Repeat[] = [];
  /** each flag is judged once: a second read (e.g. `int` after `string`) neither repeats a problem nor a note */
  private readonly read = new Map<string, string | undefined>();

  constructor(private readonly a: Args) {}

  /** A single-value flag as text (numbers given to yargs as numbers come back as their text). */
  string(flag: string): string | undefined {
    if (!this.read.has(flag)) this.read.set(flag, this.judge(flag));
    return this.read.get(flag);
  }

  private judge(flag: string): string | undefined {
    const v = this.a[flag];
    if (v === undefined || v === null) return undefined;
    const values = ([] as unknown[]).concat(v).map(String);
    // `--tz $TZ` with TZ unset reaches here as a flag without a value: never read as the default
    if (values.some((x) => x === '') && !MAY_BE_EMPTY.has(flag)) {
      this.problems.push(`${flag}: given without a value (an empty shell variable?); give --${flag} <value>, or leave the flag out for its default`);
      return undefined;
    }
    if (values.length === 1) return values[0];
    const used = values[values.length - 1]!;
    if (values.every((x) => x === used)) return used;
    if (SAME_ONLY.has(flag)) {
      this.problems.push(
        `${flag}: given ${values.length} times with different values (${values.map((x) => JSON.stringify(x)).join(', ')}); it decides where data or the key goes, so no copy may silently win: give --${flag} once`,
      );
      return undefined;
    }
    this.repeats.push({ flag, values, used });
    return used;
  }

  /** The flag is on the command line (or has a default), whatever its value. */
  given(flag: string): boolean {
    return this.a[flag] !== undefined && this.a[flag] !== null;
  }

  /** A repeatable flag: every value, in the order given. */
  list(flag: string): string[] {
    const v = this.a[flag];
    return v === undefined || v === null ? [] : ([] as unknown[]).concat(v).map(String);
  }

  bool(flag: string): boolean {
    const v = this.a[flag];
    return Array.isArray(v) ? v[v.length - 1] === true : v === true;
  }

  /** A whole number as typed ("3", not "3.5", "1e3" or "3x"). */
  int(flag: string, min: number): number | undefined {
    const text = this.string(flag);
    if (text === undefined) return undefined;
    if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < min) {
      this.problems.push(`${flag}: expected a whole number ≥ ${min}, found ${JSON.stringify(text)}`);
      return undefined;
    }
    return Number(text);
  }

  /** A duration: 90s, 5m, 6h, 2d, 1w (also 1.5h), or `fallback` when not given → its text and milliseconds. */
  duration(flag: string, fallback: string, parse: (text: string) => number | undefined): { text: string; ms: number } {
    const text = this.string(flag) ?? fallback;
    const seconds = parse(text);
    if (seconds === undefined || seconds <= 0) this.problems.push(`${flag}: expected a duration like 30s, 10m, 6h or 2d, found ${JSON.stringify(text)}`);
    return { text, ms: (seconds ?? 0) * 1000 };
  }

  problem(text: string): void {
    this.problems.push(text);
  }

  /** Throws one CONFIG_INVALID naming every problem found (exit 2: nothing was written or sent). */
  check(extra: readonly string[] = []): void {
    const all = [...this.problems, ...extra];
    if (all.length > 0)
      throw new BackfillError(
        'CONFIG_INVALID',
        all.join('\n'),
        'Nothing was written or sent. Fix the option(s) above and run the same command again (lp-backfill <command> --help lists them).',
      );
  }
}
