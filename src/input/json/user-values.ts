// JSON values (NDJSON, JSON arrays, Parquet rows) → attribute values of `--kind users` (issue 19).
// The vendor presets for people exports use the same two functions, so a value means the same
// whatever the export.
import type { UserValue, UserValueProblem } from '../../model/user-record.js';
import { isJsonObject, type JsonObject } from './json-text.js';

const MARK_CODE = 0;

/** A value that could not be made an attribute value, and why. */
export interface ValueRefused {
  problem: UserValueProblem;
}

export const isRefused = (v: UserValue | ValueRefused): v is ValueRefused => typeof v === 'object' && v !== null && !Array.isArray(v) && 'problem' in v;

/**
 * A scalar or a list as an attribute value:
 * - strings, booleans and null as they are; a number as a number;
 * - a number with more digits than a double holds (the JSON readers keep it as marked text; a
 *   Parquet INT64 past 2^53 arrives as a bigint) as its exact decimal **text**, a string;
 * - a Parquet timestamp (a Date) as its ISO-8601 text (`2024-05-01T10:00:00.000Z`);
 * - a list item by item (a list or an object inside: `nested_list`);
 * - raw bytes: `unsupported_value`.
 * Objects are not values: flattenUserObject names their leaves.
 */
export function userValueOf(v: unknown): UserValue | ValueRefused {
  switch (typeof v) {
    case 'undefined':
      return null;
    case 'string':
      return v.charCodeAt(0) === MARK_CODE ? v.slice(1) : v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    case 'boolean':
      return v;
    default:
      break;
  }
  if (v === null) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return { problem: 'unsupported_value' };
  if (Array.isArray(v)) {
    const out: UserValue[] = [];
    for (const item of v) {
      if (Array.isArray(item) || isJsonObject(item)) return { problem: 'nested_list' };
      const u = userValueOf(item);
      if (isRefused(u)) return u;
      out.push(u);
    }
    return out;
  }
  // an object where a value was expected: the caller flattens objects; here it has no single value
  return { problem: 'nested_list' };
}

/**
 * Every leaf of an object as an attribute: nested objects are flattened with `_` (`{"address":
 * {"city":"Oslo"}}` → `address_city`; a `.` would nest in Leanplum), depth first in key order;
 * lists and scalars are leaves. An empty object is no value (like null). Names are checked later
 * (attributeNameProblem), with the rename to use.
 */
export function flattenUserObject(
  obj: JsonObject,
  prefix: string,
  visit: (name: string, value: UserValue | ValueRefused) => void,
  skip?: (key: string) => boolean,
): void {
  for (const key in obj) {
    if (skip?.(key)) continue;
    const v = obj[key]!;
    const name = prefix === '' ? key : `${prefix}_${key}`;
    if (isJsonObject(v)) {
      let any = false;
      for (const _ in v) {
        any = true;
        break;
      }
      if (any) flattenUserObject(v, name, visit);
      else visit(name, null);
    } else visit(name, userValueOf(v));
  }
}
