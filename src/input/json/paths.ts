import { isJsonObject, parseJson, type JsonObject, type JsonValue } from './json-text.js';

/**
 * Is this string the text of a JSON object or array? (first non-space character `{` or `[`, last
 * `}` or `]`; whether it parses is decided by parsing it.)
 */
function mayHoldJson(s: string): boolean {
  let i = 0;
  let c = s.charCodeAt(0);
  while (c === 32 || c === 9 || c === 10 || c === 13) c = s.charCodeAt(++i);
  if (c !== 123 && c !== 91) return false;
  let j = s.length - 1;
  let d = s.charCodeAt(j);
  while (d === 32 || d === 9 || d === 10 || d === 13) d = s.charCodeAt(--j);
  return d === (c === 123 ? 125 : 93);
}

/**
 * Strings already parsed, per object that holds them: each JSON string of a record is parsed once,
 * however many paths (--map, --param, --params-from, the preset) step into it. Keyed weakly on
 * the holding object, so the cache dies with the record. `null`: the string is not JSON.
 */
const parsedStrings = new WeakMap<object, Map<string, JsonObject | JsonValue[] | null>>();

/**
 * `holder[key]`, where a string that holds a JSON object or array is read as that object or array
 * (PostHog's and Braze's `properties`, Segment's `context` in some sinks). Numbers of 16+ digits in
 * it keep their exact text, as everywhere (see json-text.ts). Any other value is returned as is.
 */
export function childValue(holder: object, key: string): JsonValue | undefined {
  const v = (holder as JsonObject)[key];
  if (typeof v !== 'string' || v.length < 2 || !mayHoldJson(v)) return v;
  let cache = parsedStrings.get(holder);
  if (cache === undefined) parsedStrings.set(holder, (cache = new Map()));
  let p = cache.get(key);
  if (p === undefined) {
    const r = parseJson(v);
    p =
      r.ok && typeof r.value === 'object' && r.value !== null && !(r.value instanceof Date) && !(r.value instanceof Uint8Array)
        ? (r.value as JsonObject)
        : null;
    cache.set(key, p);
  }
  return p === null ? v : p;
}

/** `holder[key]` as an object: an object, or a string holding one (parsed once per record); else undefined. */
export function objectAt(holder: JsonObject, key: string): JsonObject | undefined {
  const v = childValue(holder, key);
  return isJsonObject(v) ? v : undefined;
}

/**
 * The value at a dotted path (`properties.distinct_id`), or undefined. A key that itself holds dots
 * (`"$feature.x"`) is found too: at each level the whole rest of the path is tried as one key before
 * it is split at its first dot. A step into a string that holds a JSON object or array parses it
 * and goes on inside (compilePath's rule).
 */
export function getPath(record: unknown, path: string): JsonValue | undefined {
  let cur: unknown = record;
  let rest = path;
  for (;;) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    if (Object.hasOwn(cur, rest)) return (cur as JsonObject)[rest];
    const dot = rest.indexOf('.');
    if (dot <= 0) return undefined;
    const head = rest.slice(0, dot);
    if (!Object.hasOwn(cur, head)) return undefined;
    cur = childValue(cur, head);
    rest = rest.slice(dot + 1);
  }
}

/**
 * An object that may arrive JSON-encoded in a string (PostHog's Parquet `properties`, Braze's
 * `properties`): the object, or undefined when it is neither an object nor a string holding one.
 * (Not cached: for a value inside a record, objectAt caches the parse.)
 */
export function asObject(v: unknown): JsonObject | undefined {
  if (isJsonObject(v)) return v;
  if (typeof v === 'string' && v.length > 1 && mayHoldJson(v)) {
    const p = parseJson(v);
    if (p.ok && isJsonObject(p.value)) return p.value;
  }
  return undefined;
}

/** One leaf of a flattened object: its dotted name and its value (a scalar, an array, or {}). */
export interface Leaf {
  name: string;
  value: JsonValue;
}

/** A non-empty plain object (not an array, a Date or bytes): flattened further. */
function isNestedObject(v: JsonValue): v is JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date || v instanceof Uint8Array) return false;
  for (const _ in v) return true;
  return false;
}

/**
 * Calls visit(name, value) for every leaf of an object, depth first in key order: nested objects
 * are flattened with `.` (`{"cart":{"total":3}}` → `cart.total`); arrays and empty objects are
 * leaves (written as JSON). `skip` leaves out top-level keys.
 */
export function walkLeaves(
  obj: JsonObject,
  prefix: string,
  skip: ((key: string) => boolean) | undefined,
  visit: (name: string, value: JsonValue) => void,
): void {
  for (const key in obj) {
    if (skip?.(key)) continue;
    const v = obj[key]!;
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (isNestedObject(v)) walkLeaves(v, name, undefined, visit);
    else visit(name, v);
  }
}

/** Every leaf of an object as {name, value}, in the order walkLeaves visits them. */
export function flattenObject(obj: JsonObject, prefix = '', out: Leaf[] = []): Leaf[] {
  walkLeaves(obj, prefix, undefined, (name, value) => out.push({ name, value }));
  return out;
}

/**
 * A dotted path made once into a reader: each segment is looked up in turn (the common case,
 * without slicing strings per record); where that fails, the rest of the path is tried as one key
 * (keys that hold dots). A step that meets a string holding a JSON object or array parses it
 * (once per record, see childValue) and follows the path inside. With `parseEnd`, the value at the
 * end of the path is read the same way (--params-from: a JSON string's keys become parameters).
 */
export function compilePath(path: string, parseEnd = false): (record: unknown) => JsonValue | undefined {
  const segs = path.split('.');
  const n = segs.length;
  if (n === 1) {
    return parseEnd
      ? (r) => (typeof r === 'object' && r !== null && Object.hasOwn(r, path) ? childValue(r, path) : undefined)
      : (r) => (typeof r === 'object' && r !== null && Object.hasOwn(r, path) ? (r as JsonObject)[path] : undefined);
  }
  // the rest of the path from each segment on, tried as one key where the segment is missing
  const rests = segs.map((_, i) => segs.slice(i).join('.'));
  return (r) => {
    let cur: unknown = r;
    for (let i = 0; i < n; i++) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      let key = segs[i]!;
      if (!Object.hasOwn(cur, key)) {
        if (i === n - 1 || !Object.hasOwn(cur, rests[i]!)) return undefined;
        key = rests[i]!;
        i = n - 1;
      }
      cur = i < n - 1 || parseEnd ? childValue(cur, key) : (cur as JsonObject)[key];
    }
    return cur as JsonValue;
  };
}

/**
 * The dotted names of every value in a record, as the header scan lists them for messages and
 * "did you mean": nested objects are entered, and so are strings holding a JSON object (their keys
 * are paths too); arrays are leaves. At most `max` names are visited.
 */
export function walkPaths(obj: JsonObject, prefix: string, visit: (name: string) => boolean, depth = 0): boolean {
  for (const key in obj) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (!visit(name)) return false;
    if (depth >= 8) continue;
    const v = childValue(obj, key);
    if (isNestedObject(v as JsonValue) && !walkPaths(v as JsonObject, name, visit, depth + 1)) return false;
  }
  return true;
}
