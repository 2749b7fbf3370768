import { isJsonObject, parseJson, type JsonObject, type JsonValue } from './json-text.js';

/**
 * The value at a dotted path (`properties.distinct_id`), or undefined. A key that itself holds dots
 * (`"$feature.x"`) is found too: at each level the whole rest of the path is tried as one key before
 * it is split at its first dot.
 */
export function getPath(record: unknown, path: string): JsonValue | undefined {
  let cur: unknown = record;
  let rest = path;
  for (;;) {
    if (!isJsonObject(cur)) return undefined;
    if (Object.hasOwn(cur, rest)) return cur[rest];
    const dot = rest.indexOf('.');
    if (dot <= 0) return undefined;
    const head = rest.slice(0, dot);
    if (!Object.hasOwn(cur, head)) return undefined;
    cur = cur[head];
    rest = rest.slice(dot + 1);
  }
}

/**
 * An object that may arrive JSON-encoded in a string (PostHog's Parquet `properties`, Braze's
 * `properties`): the object, or undefined when it is neither an object nor a string holding one.
 */
export function asObject(v: unknown): JsonObject | undefined {
  if (isJsonObject(v)) return v;
  if (typeof v === 'string' && v.length > 1 && v.charCodeAt(0) === 123) {
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
 * without slicing strings per record); where that fails, getPath's slower rule for keys that hold
 * dots is tried.
 */
export function compilePath(path: string): (record: unknown) => JsonValue | undefined {
  const segs = path.split('.');
  if (segs.length === 1) return (r) => (typeof r === 'object' && r !== null && Object.hasOwn(r, path) ? (r as JsonObject)[path] : undefined);
  // the rest of the path from each segment on, tried as one key where the segment is missing
  const rests = segs.map((_, i) => segs.slice(i).join('.'));
  return (r) => {
    let cur: unknown = r;
    for (let i = 0; i < segs.length; i++) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      if (Object.hasOwn(cur, segs[i]!)) cur = (cur as JsonObject)[segs[i]!];
      else if (i < segs.length - 1 && Object.hasOwn(cur, rests[i]!)) return (cur as JsonObject)[rests[i]!];
      else return undefined;
    }
    return cur as JsonValue;
  };
}
