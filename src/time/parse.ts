import { tz as inZone, tzOffset } from '@date-fns/tz';
import { parse as parseWithPattern, isValid } from 'date-fns';

export type EpochUnit = 'unix-s' | 'unix-ms' | 'unix-us' | 'unix-ns';
export type TimeFormat = 'auto' | 'iso' | EpochUnit | { pattern: string };

export const EPOCH_UNITS: readonly EpochUnit[] = ['unix-s', 'unix-ms', 'unix-us', 'unix-ns'];
const UNIT_DIGITS: Readonly<Record<EpochUnit, number>> = { 'unix-s': 0, 'unix-ms': 3, 'unix-us': 6, 'unix-ns': 9 };

/** How a value was read: `naive` means it had no offset and was read in the configured zone. */
export type ParsedTime =
  | { ok: true; seconds: number; naive: boolean; kind: 'iso' | EpochUnit | 'pattern' }
  | { ok: false; message: string };

export function parseTimeFormat(text: string): TimeFormat {
  if (text === 'auto' || text === 'iso' || (EPOCH_UNITS as readonly string[]).includes(text)) {
    return text as TimeFormat;
  }
  return { pattern: text };
}

export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const NUMERIC = /^-?\d+(?:\.\d+)?$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

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
    case 9: case 10: return 'unix-s';
    case 12: case 13: return 'unix-ms';
    case 15: case 16: return 'unix-us';
    case 18: case 19: return 'unix-ns';
    default: return undefined;
  }
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(y: number, m: number): number {
  return m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : MONTH_DAYS[m - 1]!;
}

function offsetSeconds(off: string): number {
  if (off === 'Z' || off === 'z') return 0;
  const sign = off[0] === '-' ? -1 : 1;
  const hh = Number(off.slice(1, 3));
  const mm = off.length > 3 ? Number(off.slice(off.length - 2)) : 0;
  return sign * (hh * 3600 + mm * 60);
}

function parseIso(text: string, zone: string): ParsedTime {
  const m = ISO.exec(text);
  if (!m) return { ok: false, message: `"${text}" is not an ISO-8601 date-time` };
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) {
    return { ok: false, message: `"${text}" is not a real calendar date-time` };
  }
  const off = m[8];
  if (off !== undefined) {
    const oh = Math.abs(offsetSeconds(off));
    if (oh > 18 * 3600) return { ok: false, message: `"${text}" has an impossible UTC offset ${off}` };
    return { ok: true, seconds: Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - offsetSeconds(off), naive: false, kind: 'iso' };
  }
  if (zone === 'UTC') return { ok: true, seconds: Date.UTC(y, mo - 1, d, h, mi, s) / 1000, naive: true, kind: 'iso' };
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const instant = wallToInstant(wall, zone);
  if (instant === undefined) {
    return { ok: false, message: `"${text}" does not exist in ${zone} (skipped by a daylight-saving change)` };
  }
  return { ok: true, seconds: instant / 1000, naive: true, kind: 'iso' };
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
    const candidate = wall - tzOffset(zone, new Date(probe)) * 60_000;
    if (candidate + tzOffset(zone, new Date(candidate)) * 60_000 === wall && (best === undefined || candidate < best)) best = candidate;
  }
  return best;
}

function parseEpoch(text: string, unit: EpochUnit): ParsedTime {
  if (!NUMERIC.test(text)) return { ok: false, message: `"${text}" is not a number (expected ${unit})` };
  return { ok: true, seconds: epochToSeconds(text, unit), naive: false, kind: unit };
}

const PATTERN_HAS_ZONE = /(^|[^'])[XxOz]/;

function parsePattern(text: string, pattern: string, zone: string): ParsedTime {
  const d = parseWithPattern(text, pattern, new Date(0), { in: inZone(zone) });
  if (!isValid(d)) return { ok: false, message: `"${text}" does not match the pattern "${pattern}"` };
  return { ok: true, seconds: Math.floor(d.getTime() / 1000), naive: !PATTERN_HAS_ZONE.test(pattern), kind: 'pattern' };
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
