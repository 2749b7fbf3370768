import type { tz, tzOffset } from '@date-fns/tz';
import { createRequire } from 'node:module';
import type { format } from 'date-fns/format';
import type { isValid } from 'date-fns/isValid';
import type { parse } from 'date-fns/parse';

interface PatternReader {
  formatWithPattern: typeof format;
  parseWithPattern: typeof parse;
  isValid: typeof isValid;
  /** date-fns reads a pattern's fields in UTC: zones and offsets are applied here */
  utc: ReturnType<typeof tz>;
}
let patternReader: PatternReader | undefined;
let offsetOf: typeof tzOffset | undefined;
const load = createRequire(import.meta.url);
/**
 * date-fns' pattern reader, loaded (synchronously, its CommonJS build) the first time a
 * --time-format pattern needs it: its ~90 modules cost ~40 ms at every start otherwise, and only
 * a pattern uses them (ISO and epoch values are read here).
 */
function dateFns(): PatternReader {
  if (patternReader === undefined) {
    patternReader = {
      formatWithPattern: (load('date-fns/format') as { format: typeof format }).format,
      parseWithPattern: (load('date-fns/parse') as { parse: typeof parse }).parse,
      isValid: (load('date-fns/isValid') as { isValid: typeof isValid }).isValid,
      utc: (load('@date-fns/tz') as { tz: typeof tz }).tz('UTC'),
    };
  }
  return patternReader;
}
/** The zone's offset in minutes at an instant; @date-fns/tz is loaded the first time a zone other than UTC needs it. */
function zoneOffset(zone: string, at: Date): number {
  offsetOf ??= (load('@date-fns/tz') as { tzOffset: typeof tzOffset }).tzOffset;
  return offsetOf(zone, at);
}

export type EpochUnit = 'unix-s' | 'unix-ms' | 'unix-us' | 'unix-ns';
export type TimeFormat = 'auto' | 'iso' | EpochUnit | { pattern: string };

export const EPOCH_UNITS: readonly EpochUnit[] = ['unix-s', 'unix-ms', 'unix-us', 'unix-ns'];
const UNIT_DIGITS: Readonly<Record<EpochUnit, number>> = { 'unix-s': 0, 'unix-ms': 3, 'unix-us': 6, 'unix-ns': 9 };

/** How a value was read: `naive` means it had no offset and was read in the configured zone. */
export type ParsedTime =
  | { ok: true; seconds: number; naive: boolean; kind: 'iso' | EpochUnit | 'pattern' }
  /** `implausible`: read, but no real event time (an epoch ≤ 0: an unset or zeroed timestamp) */
  | { ok: false; message: string; implausible?: true };

export function parseTimeFormat(text: string): TimeFormat {
  if (text === 'auto' || text === 'iso' || (EPOCH_UNITS as readonly string[]).includes(text)) {
    return text as TimeFormat;
  }
  return { pattern: text };
}

/**
 * Why a date-fns pattern cannot be used, or undefined. date-fns only objects to a bad token when a
 * value reaches it, which would turn a typo (YYYY, an unknown letter) into a crash on the first row;
 * writing a sample instant with the pattern and reading it back finds that before any row.
 */
export function timePatternProblem(pattern: string): string | undefined {
  try {
    const { formatWithPattern, parseWithPattern, isValid } = dateFns();
    const sample = formatWithPattern(new Date(Date.UTC(2021, 10, 23, 13, 4, 5, 678)), pattern);
    if (!isValid(parseWithPattern(sample, pattern, new Date(0)))) return `it cannot read back what it writes ("${sample}")`;
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/ to the input `[^`]*`/, '');
  }
}

export function isValidZone(zone: string): boolean {
  // the default: no need to load the time zone database for it (~5 ms of every start)
  if (zone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const NUMERIC = /^-?\d+(?:\.\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Epoch value in `unit` → whole seconds (floored), without losing precision on 19-digit ns. */
function epochToSeconds(text: string, unit: EpochUnit): number {
  const digits = UNIT_DIGITS[unit];
  if (digits === 0) return Math.floor(Number(text));
  const dot = text.indexOf('.');
  const intPart = dot === -1 ? text : text.slice(0, dot);
  if (intPart.length <= 15) return Math.floor(Number(text) / 10 ** digits);
  const big = BigInt(intPart);
  const div = 10n ** BigInt(digits);
  // BigInt division truncates toward zero; floor for negatives.
  const q = big / div;
  return Number(big < 0n && q * div !== big ? q - 1n : q);
}

/**
 * `auto` decides the unit by the number of integer digits: 9–10 seconds, 12–13 ms, 15–16 µs,
 * 18–19 ns (each covers 1973–2286). Other lengths fit two units badly and are refused.
 */
export function autoEpochUnit(text: string): EpochUnit | undefined {
  const dot = text.indexOf('.');
  const intDigits = (dot === -1 ? text.length : dot) - (text.startsWith('-') ? 1 : 0);
  switch (intDigits) {
    case 9:
    case 10:
      return 'unix-s';
    case 12:
    case 13:
      return 'unix-ms';
    case 15:
    case 16:
      return 'unix-us';
    case 18:
    case 19:
      return 'unix-ns';
    default:
      return undefined;
  }
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(y: number, m: number): number {
  return m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : MONTH_DAYS[m - 1]!;
}

/**
 * Offsets in use run from −12:00 to +14:00 (Pacific/Kiritimati); ±14:00 bounds both sides. Anything
 * beyond, or minutes/seconds past 59, is a typo that would otherwise shift the event silently
 * (date arithmetic reads +05:99 as +06:39).
 */
const MAX_OFFSET = 14 * 3600;
const OFFSET = /^([+-])(\d{2})(?:(:?)(\d{2})(?:\3(\d{2}))?)?$/;

/**
 * "Z", "±hh", "±hhmm", "±hh:mm", "±hhmmss", "±hh:mm:ss" → seconds east of UTC; undefined when no
 * zone has such an offset. The ISO path and the pattern path both read offsets here, so they
 * accept and refuse the same ones.
 */
export function offsetSeconds(off: string): number | undefined {
  if (off === 'Z' || off === 'z') return 0;
  const m = OFFSET.exec(off);
  if (!m) return undefined;
  const hh = Number(m[2]);
  const mm = Number(m[4] ?? 0);
  const ss = Number(m[5] ?? 0);
  if (mm > 59 || ss > 59) return undefined;
  const total = hh * 3600 + mm * 60 + ss;
  if (total > MAX_OFFSET) return undefined;
  return m[1] === '-' && total !== 0 ? -total : total;
}

const impossibleOffset = (text: string, off: string): ParsedTime => ({
  ok: false,
  message: `"${text}" has an impossible UTC offset ${off} (offsets run from -12:00 to +14:00, minutes 00–59)`,
});

/** A wall-clock time (ms, as if UTC) read in `zone`: the one rule for every naive time, ISO or pattern. */
function fromWall(text: string, wall: number, zone: string, kind: 'iso' | 'pattern'): ParsedTime {
  const instant = zone === 'UTC' ? wall : wallToInstant(wall, zone);
  if (instant === undefined) {
    return { ok: false, message: `"${text}" does not exist in ${zone} (skipped by a daylight-saving change)` };
  }
  return { ok: true, seconds: Math.floor(instant / 1000), naive: true, kind };
}

function parseIso(text: string, zone: string): ParsedTime {
  const m = ISO.exec(text);
  if (!m) return { ok: false, message: `"${text}" is not an ISO-8601 date-time` };
  const y = Number(m[1]),
    mo = Number(m[2]),
    d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) {
    return { ok: false, message: `"${text}" is not a real calendar date-time` };
  }
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const off = m[8];
  if (off === undefined) return fromWall(text, wall, zone, 'iso');
  const offset = offsetSeconds(off);
  if (offset === undefined) return impossibleOffset(text, off);
  return { ok: true, seconds: wall / 1000 - offset, naive: false, kind: 'iso' };
}

const HOUR_MS = 3_600_000;

/**
 * A wall-clock time in `zone` (given as if it were UTC ms) → the UTC instant. Tries the offsets in
 * force a day before and a day after (real zones change at most once in that span); a wall time
 * that DST repeats takes the earlier instant, one that DST skipped has none. Independent of the
 * machine's own zone.
 */
export function wallToInstant(wall: number, zone: string): number | undefined {
  let best: number | undefined;
  for (const probe of [wall - 24 * HOUR_MS, wall + 24 * HOUR_MS]) {
    const candidate = wall - zoneOffset(zone, new Date(probe)) * 60_000;
    if (candidate + zoneOffset(zone, new Date(candidate)) * 60_000 === wall && (best === undefined || candidate < best)) best = candidate;
  }
  return best;
}

/** An epoch of 0 or less (1970-01-01 and before): what an unset or zeroed timestamp reads as, never a real event. */
const notPositive = (text: string): ParsedTime => ({
  ok: false,
  implausible: true,
  message: `epoch value "${text}" is at or before 1970-01-01T00:00:00Z: an unset or zeroed timestamp, not an event time`,
});

function parseEpoch(text: string, unit: EpochUnit): ParsedTime {
  if (!NUMERIC.test(text)) return { ok: false, message: `"${text}" is not a number (expected ${unit})` };
  if (Number(text) <= 0) return notPositive(text);
  return { ok: true, seconds: epochToSeconds(text, unit), naive: false, kind: unit };
}

const REFERENCE = new Date(0);
// date-fns's own tokenizer, so quoted literals split here exactly as they split there.
const PATTERN_TOKENS = /[yYQqMLwIdDecihHKkms]o|(\w)\1*|''|'(''|[^'])+('|$)|./g;
// Stands in for the offset text; never in a real time value, and not a letter, so date-fns takes
// it unquoted as a literal.
const SENTINEL = '\u0000';
/** The text each length of X…/x… accepts (date-fns `timezonePatterns`), anchored where it is tried. */
const OFFSET_SHAPES: Readonly<Record<number, RegExp>> = {
  1: /Z|[+-]\d{2}(?:\d{2})?/y,
  2: /Z|[+-]\d{4}/y,
  3: /Z|[+-]\d{2}:\d{2}/y,
  4: /Z|[+-]\d{4}(?:\d{2})?/y,
  5: /Z|[+-]\d{2}:\d{2}(?::\d{2})?/y,
};

interface PatternPlan {
  /** t / T: the value is an epoch timestamp, already an instant */
  timestamp: boolean;
  /** the pattern with its offset token replaced by SENTINEL, and the offset text that token takes */
  offset: { wallPattern: string; shape: RegExp } | undefined;
}

const plans = new Map<string, PatternPlan>();
function planOf(pattern: string): PatternPlan {
  let plan = plans.get(pattern);
  if (plan !== undefined) return plan;
  const tokens = pattern.match(PATTERN_TOKENS) ?? [];
  const at = tokens.findIndex((t) => t[0] === 'X' || t[0] === 'x');
  plan = {
    timestamp: tokens.some((t) => t[0] === 't' || t[0] === 'T'),
    offset:
      at === -1
        ? undefined
        : { wallPattern: tokens.map((t, i) => (i === at ? SENTINEL : t)).join(''), shape: OFFSET_SHAPES[tokens[at]!.length] ?? OFFSET_SHAPES[3]! },
  };
  if (plans.size < 100) plans.set(pattern, plan);
  return plan;
}

/** The fields the pattern reads, as a UTC ms value: the wall time, before any zone or offset. */
function parseWall(text: string, pattern: string): number | undefined {
  const { parseWithPattern, isValid, utc } = dateFns();
  const d = parseWithPattern(text, pattern, REFERENCE, { in: utc });
  return isValid(d) ? d.getTime() : undefined;
}

/**
 * date-fns reads the fields, but zones and offsets are applied here, by the same rules as ISO
 * values: left to date-fns, a wall time skipped by DST silently moves an hour and +05:99 passes.
 */
function parsePattern(text: string, pattern: string, zone: string): ParsedTime {
  const noMatch: ParsedTime = { ok: false, message: `"${text}" does not match the pattern "${pattern}"` };
  const plan = planOf(pattern);
  if (plan.timestamp) {
    const instant = parseWall(text, pattern);
    return instant === undefined ? noMatch : { ok: true, seconds: Math.floor(instant / 1000), naive: false, kind: 'pattern' };
  }
  if (plan.offset === undefined) {
    const wall = parseWall(text, pattern);
    return wall === undefined ? noMatch : fromWall(text, wall, zone, 'pattern');
  }
  // Which offset-shaped piece of the text is the offset is left to date-fns: only the right one,
  // taken out, lets the rest of the pattern match. Offsets usually come last, so try from the end.
  const { wallPattern, shape } = plan.offset;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i];
    if (c !== '+' && c !== '-' && c !== 'Z') continue;
    shape.lastIndex = i;
    const off = shape.exec(text)?.[0];
    if (off === undefined) continue;
    const wall = parseWall(text.slice(0, i) + SENTINEL + text.slice(i + off.length), wallPattern);
    if (wall === undefined) continue;
    const offset = offsetSeconds(off);
    if (offset === undefined) return impossibleOffset(text, off);
    return { ok: true, seconds: Math.floor(wall / 1000) - offset, naive: false, kind: 'pattern' };
  }
  return noMatch;
}

/** One raw time value → UTC epoch seconds. Pure: no clock, no I/O. */
export function parseTime(raw: string, format: TimeFormat, zone: string): ParsedTime {
  const text = raw.trim();
  if (text === '') return { ok: false, message: 'time is empty' };
  if (typeof format === 'object') return parsePattern(text, format.pattern, zone);
  switch (format) {
    case 'iso':
      return parseIso(text, zone);
    case 'auto': {
      if (NUMERIC.test(text)) {
        if (Number(text) <= 0) return notPositive(text);
        const unit = autoEpochUnit(text);
        if (unit === undefined) {
          return {
            ok: false,
            message: `ambiguous epoch value "${text}": its length fits none of seconds (9–10 digits), ms (12–13), µs (15–16) or ns (18–19); pass --time-format unix-s|unix-ms|unix-us|unix-ns`,
          };
        }
        return parseEpoch(text, unit);
      }
      return parseIso(text, zone);
    }
    default:
      return parseEpoch(text, format);
  }
}
