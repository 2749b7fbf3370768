// `--kind users` (issue 19): the rules one record passes, whatever input or preset it came from. Pure.
import {
  USER_TIME_FIELDS,
  type RawUserRecord,
  type UserField,
  type UserRecord,
  type UserRecordResult,
  type UserValue,
  type UserValueProblem,
} from '../model/user-record.js';
import { parseTime, wallToInstant, type TimeFormat } from '../time/parse.js';
import { USER_ID_MAX } from './names.js';
import { isEmptyValue, valueProblem } from './user-cells.js';
import { attributeNameProblem } from './user-names.js';

/** How times are read: the events' --time-format, --tz (times without an offset), --source-tz (epoch values). */
export interface UserTimeOptions {
  timeFormat: TimeFormat;
  zone: string;
  epochZone?: string | undefined;
}

/** A time read to epoch seconds, or why it could not be. */
export type UserTime = { ok: true; seconds: number; naive: boolean } | { ok: false; message: string };

/**
 * A time value (created, lastActive, the record's own time) → epoch seconds, by the same parser as
 * event times: ISO-8601 with or without offset (without: --tz), epoch s/ms/µs/ns by length, or the
 * --time-format pattern. No clamp: these are attributes, not events.
 */
export function readUserTime(v: UserValue, what: string, opts: UserTimeOptions): UserTime {
  if (typeof v !== 'string' && typeof v !== 'number') return { ok: false, message: `${what}: expected a time, found ${JSON.stringify(v)}` };
  const p = parseTime(String(v), opts.timeFormat, opts.zone);
  if (!p.ok) return { ok: false, message: `${what}: ${p.message}` };
  if (opts.epochZone === undefined || !p.kind.startsWith('unix-')) return { ok: true, seconds: p.seconds, naive: p.naive };
  const instant = wallToInstant(p.seconds * 1000, opts.epochZone);
  if (instant === undefined) return { ok: false, message: `${what}: does not exist in --source-tz ${opts.epochZone} (skipped by a daylight-saving change)` };
  return { ok: true, seconds: Math.floor(instant / 1000), naive: true };
}

/** Why a user id is refused, or undefined. */
export function userIdProblem(id: string): { reason: 'missing_user_id' | 'bad_user_id'; message: string } | undefined {
  if (id.trim() === '') return { reason: 'missing_user_id', message: 'userId is empty' };
  if (id.length > USER_ID_MAX) return { reason: 'bad_user_id', message: `userId is ${id.length} characters long (at most ${USER_ID_MAX})` };
  return undefined;
}

/** A value left out of a record, by attribute name. */
export interface LeftOutValue {
  name: string;
  problem: UserValueProblem;
  /** the value as found, for the report's sample */
  value: UserValue;
}

/** What a record needs from the options: time reading and --clear-empty. */
export interface UserRecordOptions extends UserTimeOptions {
  clearEmpty: boolean;
}

/**
 * A record as a projection made it → kept, rejected or dropped:
 * - a user id empty or longer than Leanplum's 400: rejected (missing_user_id, bad_user_id);
 * - created / lastActive (any form the time parser reads) → epoch seconds; one that cannot be
 *   read rejects the record (bad_time), as a bad event time does; the record's own time likewise;
 * - a list where a field takes one value (locale, country…) is left out (unsupported_value);
 * - an attribute whose name breaks Leanplum's rules (bad_name) or whose value has no cell form
 *   (valueProblem) is left out, the rest of the record stays; each is reported through `leftOut`;
 * - a record that then sets nothing (no field, no non-empty attribute; with --clear-empty an empty
 *   attribute is a clear and counts) is dropped as `nothing_to_set`.
 * The kept record's time is epoch ms (undefined: the record has none).
 */
export function settleUserRecord(raw: RawUserRecord, opts: UserRecordOptions, leftOut: (v: LeftOutValue) => void): UserRecordResult {
  const { time, fields, attributes } = raw;
  const id = raw.userId;
  if (id === undefined || id === null || id === '') return { kind: 'rejected', reason: 'missing_user_id', message: 'userId is empty' };
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isInteger(id)))
    return { kind: 'rejected', reason: 'bad_user_id', message: `userId is ${JSON.stringify(id).slice(0, 60)}: expected a string or a whole number` };
  const userId = typeof id === 'string' ? id : String(id);
  for (const r of raw.refused ?? []) leftOut(r);
  const idp = userIdProblem(userId);
  if (idp !== undefined) return { kind: 'rejected', ...idp };
  let ms: number | undefined;
  // a time read without an offset (in --tz), counted as the events' naive rows are
  let naive = false;
  if (time !== undefined && !isEmptyValue(time)) {
    const t = readUserTime(time, 'time', opts);
    if (!t.ok) return { kind: 'rejected', reason: 'bad_time', message: t.message };
    ms = t.seconds * 1000;
    naive ||= t.naive;
  }
  const outFields: Partial<Record<UserField, UserValue>> = {};
  let sets = false;
  for (const k in fields) {
    const f = k as UserField;
    const v = fields[f]!;
    if (isEmptyValue(v)) continue;
    if (USER_TIME_FIELDS.includes(f)) {
      const t = readUserTime(v, f, opts);
      if (!t.ok) return { kind: 'rejected', reason: 'bad_time', message: t.message };
      outFields[f] = t.seconds;
      naive ||= t.naive;
    } else if (Array.isArray(v)) {
      leftOut({ name: f, problem: 'unsupported_value', value: v });
      continue;
    } else {
      outFields[f] = v;
    }
    sets = true;
  }
  // no prototype: an attribute may be called __proto__
  const outAttrs = Object.create(null) as Record<string, UserValue>;
  for (const name in attributes) {
    const v = attributes[name]!;
    if (attributeNameProblem(name) !== undefined) {
      leftOut({ name, problem: 'bad_name', value: v });
      continue;
    }
    const p = valueProblem(v);
    if (p !== undefined) {
      leftOut({ name, problem: p, value: v });
      continue;
    }
    if (isEmptyValue(v)) {
      if (!opts.clearEmpty) continue;
      outAttrs[name] = null;
    } else outAttrs[name] = v;
    sets = true;
  }
  if (!sets) return { kind: 'dropped', reason: 'nothing_to_set' };
  const record: UserRecord = { userId, time: ms, fields: outFields, attributes: outAttrs };
  if (raw.attributeTimes !== undefined) {
    const times: Record<string, number> = {};
    for (const name in raw.attributeTimes) {
      const v = raw.attributeTimes[name]!;
      if (!Object.hasOwn(outAttrs, name) || isEmptyValue(v)) continue;
      // a number is epoch milliseconds already (the presets convert their vendor's unit)
      if (typeof v === 'number') {
        times[name] = v;
        continue;
      }
      const t = readUserTime(v, `time of ${name}`, opts);
      if (!t.ok) return { kind: 'rejected', reason: 'bad_time', message: t.message };
      times[name] = t.seconds * 1000;
      naive ||= t.naive;
    }
    record.attributeTimes = times;
  }
  if (raw.version !== undefined) record.version = raw.version;
  return naive ? { kind: 'kept', record, naive } : { kind: 'kept', record };
}
