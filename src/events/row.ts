import { applyTimeRule, type TimeRule, type TimeChange } from '../time/clamp.js';
import { parseTime, wallToInstant, type TimeFormat } from '../time/parse.js';
import { splitTotal, spreadTimes } from './expand.js';
import type { RowLayout } from './layout.js';
import { isCurrencyCode, nameProblem, USER_ID_MAX } from './names.js';
import type { DropReason, RejectReason } from './reasons.js';

export interface RowOptions {
  rule: TimeRule;
  timeFormat: TimeFormat;
  zone: string;
  maxCount: number;
  valueIsTotal: boolean;
  /**
   * --source-tz: epoch values are wall-clock times in this zone, not UTC (Mixpanel projects created
   * before 2023 export their project's local time as if it were UTC).
   */
  epochZone?: string | undefined;
}

export interface Occurrence {
  /** output time, UTC epoch seconds */
  time: number;
  /** the time as read, before the rule */
  original: number;
  change: TimeChange;
}

export interface KeptRow {
  kind: 'kept';
  userId: string;
  event: string;
  /** per-occurrence value ('' when absent); with valueLast, that of the occurrences before valueLast.from */
  value: string;
  /**
   * --value-is-total with a remainder: the occurrences from `from` on carry `value`, one unit of
   * the last place more than the others, so that the written values add up to the total exactly.
   */
  valueLast?: { from: number; value: string };
  currencyCode: string;
  params: string[];
  occurrences: Occurrence[];
  /** the time was a naive date-time read in the configured zone */
  naive: boolean;
  timeKind: string;
  /** the vendor's event id (--dedupe-key or a preset's), when the record has one */
  dedupeId?: string;
  /** the time as the input wrote it (first|last with a spread): dedupe compares it at full precision */
  timeText: string;
}
export type RowResult = KeptRow | { kind: 'rejected'; reason: RejectReason; message: string } | { kind: 'dropped'; reason: DropReason };

const reject = (reason: RejectReason, message: string): RowResult => ({ kind: 'rejected', reason, message });

const eventNameCache = new Map<string, string | undefined>();
function cachedNameProblem(name: string): string | undefined {
  let p = eventNameCache.get(name);
  if (p === undefined && !eventNameCache.has(name)) {
    p = nameProblem(name);
    if (eventNameCache.size < 10_000) eventNameCache.set(name, p);
  }
  return p;
}

const INTEGER = /^\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A parsed time, or the rejection explaining why it could not be read (epoch ≤ 0: implausible_time). */
type TimeRead = { ok: true; seconds: number; naive: boolean; kind: string } | { ok: false; result: RowResult };
function readTime(raw: string, what: string, opts: RowOptions): TimeRead {
  const p = parseTime(raw, opts.timeFormat, opts.zone);
  if (!p.ok) return { ok: false, result: reject(p.implausible === true ? 'implausible_time' : 'bad_time', `${what}: ${p.message}`) };
  if (opts.epochZone === undefined || !p.kind.startsWith('unix-')) return p;
  // the epoch number is a wall-clock reading in the source zone, written as if it were UTC
  const instant = wallToInstant(p.seconds * 1000, opts.epochZone);
  if (instant === undefined)
    return {
      ok: false,
      result: reject(
        'bad_time',
        `${what}: ${new Date(p.seconds * 1000).toISOString().slice(0, 19)} does not exist in --source-tz ${opts.epochZone} (skipped by a daylight-saving change)`,
      ),
    };
  return { ok: true, seconds: Math.floor(instant / 1000), naive: true, kind: p.kind };
}

/**
 * One source record → kept (with its occurrences, clamped), rejected (reason + message) or
 * dropped. Pure: the whole rule set of a row lives here, the stream around it only counts.
 */
export function processRow(fields: readonly string[], layout: RowLayout, opts: RowOptions): RowResult {
  if (fields.length !== layout.width) {
    if (fields.length === 1 && fields[0] === '') return { kind: 'dropped', reason: 'blank_line' };
    return reject('ragged_row', `expected ${layout.width} fields as in the header, found ${fields.length}`);
  }
  const userId = fields[layout.userId]!;
  if (userId.trim() === '') return reject('missing_user_id', 'userId is empty');
  if (userId.length > USER_ID_MAX) return reject('bad_user_id', `userId is ${userId.length} characters long (at most ${USER_ID_MAX})`);
  const event = fields[layout.event]!;
  if (event === '') return reject('missing_event', 'event is empty');
  const np = cachedNameProblem(event);
  if (np !== undefined) return reject('bad_event_name', `event name ${JSON.stringify(event.slice(0, 60))} ${np}`);

  let value = layout.value >= 0 ? fields[layout.value]!.trim() : '';
  if (value !== '' && (!NUMBER.test(value) || !Number.isFinite(Number(value)))) {
    return reject('bad_value', `value "${value}" is not a number`);
  }
  let currencyCode = layout.currencyCode >= 0 ? fields[layout.currencyCode]!.trim() : '';
  if (currencyCode !== '') {
    if (!isCurrencyCode(currencyCode.toUpperCase())) {
      return reject('bad_currency', `currencyCode "${currencyCode}" is not an ISO 4217 code (e.g. USD, EUR)`);
    }
    if (value === '') return reject('bad_currency', `currencyCode "${currencyCode}" given without a value`);
    currencyCode = currencyCode.toUpperCase();
  }

  let count = 1;
  if (layout.count >= 0) {
    const raw = fields[layout.count]!.trim();
    if (!INTEGER.test(raw)) return reject('bad_count', `count "${raw}" is not a whole number ≥ 0`);
    count = Number(raw);
    if (count > opts.maxCount) return reject('bad_count', `count ${count} is above --max-count ${opts.maxCount}`);
  }

  let naive = false;
  let kind = '';
  /** spread times of first/last rows; undefined when every occurrence has the time `single` */
  let originals: number[] | undefined;
  let single = 0;
  if (layout.first >= 0 && layout.last >= 0) {
    const first = readTime(fields[layout.first]!, 'first time', opts);
    if (!first.ok) return first.result;
    const last = readTime(fields[layout.last]!, 'last time', opts);
    if (!last.ok) return last.result;
    if (last.seconds < first.seconds) return reject('bad_time', 'last time is before first time');
    naive = first.naive || last.naive;
    kind = first.kind;
    originals = count === 0 ? [] : spreadTimes(first.seconds, last.seconds, count);
  } else {
    const t = readTime(fields[layout.time]!, 'time', opts);
    if (!t.ok) return t.result;
    naive = t.naive;
    kind = t.kind;
    single = t.seconds;
  }
  if (count === 0) return { kind: 'dropped', reason: 'zero_count' };

  // Equal times make equal occurrences: they share one object, so a large count costs an array of
  // references rather than tens of thousands of objects that outlive young-generation GC while
  // the writer streams them out.
  const occurrences: Occurrence[] = new Array(count);
  let prev: Occurrence | undefined;
  for (let i = 0; i < count; i++) {
    const original = originals === undefined ? single : originals[i]!;
    if (prev !== undefined && prev.original === original) {
      occurrences[i] = prev;
      continue;
    }
    const v = applyTimeRule(original, opts.rule);
    if (v.kind === 'future')
      return reject(
        'future_time',
        `time ${new Date(original * 1000).toISOString()} is in the future: after the import time${opts.rule.clock !== undefined && opts.rule.clock < opts.rule.importAt ? ' or the real clock, whichever is earlier' : ''} (beyond --future-tolerance)`,
      );
    if (v.kind === 'implausible')
      return reject(
        'implausible_time',
        `time ${new Date(original * 1000).toISOString()} is before --min-time ${new Date(opts.rule.minTime * 1000).toISOString()}`,
      );
    occurrences[i] = prev = { time: v.time, original, change: v.change };
  }
  const split = opts.valueIsTotal && count > 1 && value !== '' ? splitTotal(value, count) : undefined;
  if (split !== undefined) value = split.value;
  const params = layout.params.map((p) => fields[p.index]!);
  const timeText = layout.first >= 0 && layout.last >= 0 ? `${fields[layout.first]!.trim()}|${fields[layout.last]!.trim()}` : fields[layout.time]!.trim();
  const kept: KeptRow = { kind: 'kept', userId, event, value, currencyCode, params, occurrences, naive, timeKind: kind, timeText };
  if (split?.last !== undefined) kept.valueLast = split.last;
  if (layout.dedupe >= 0 && fields[layout.dedupe] !== '') kept.dedupeId = fields[layout.dedupe]!;
  return kept;
}

/**
 * Rows with equal keys are duplicates. With a vendor event id (`$insert_id`, `uuid`, `messageId`,
 * or --dedupe-key): the same user, event and id, whatever else differs (a resent event may carry
 * another processing time). Otherwise exact duplicates (times compared before clamping, so the
 * clamp never merges rows).
 */
export function dedupeKey(row: KeptRow): string {
  if (row.dedupeId !== undefined) return JSON.stringify(['id', row.userId, row.event, row.dedupeId]);
  // the time as written, not as whole seconds: two clicks in one second are two events
  const parts = [row.userId, row.event, row.timeText, String(row.occurrences.length), row.value, row.currencyCode, ...row.params];
  return JSON.stringify(parts);
}
