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

/**
 * Every leaf of an object, depth first in key order: nested objects are flattened with `.`
 * (`{"cart":{"total":3}}` → `cart.total`); arrays and empty objects stay whole (written as JSON).
 * Keys are the object's own, in the order JSON.parse gives them.
 */
export function flattenObject(obj: JsonObject, prefix = '', out: Leaf[] = []): Leaf[] {
  for (const key of Object.keys(obj)) {
    const v = obj[key]!;
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (isJsonObject(v) && Object.keys(v).length > 0) flattenObject(v, name, out);
    else out.push({ name, value: v });
  }
  return out;
}
