// Small pure helpers the users presets share.
import { isJsonNumber, jsonText, type JsonObject, type JsonValue } from '../../input/json/json-text.js';
import { present } from '../fields.js';

/**
 * A vendor's own property names (`$email`, `$browser`) renamed for Leanplum: the names in `mapped`
 * get their Leanplum name, those in `skipped` are left out (they are read elsewhere, or are no
 * user attribute), and every other name starting with `$` loses the `$` — unless the record also
 * has that bare name (the customer's own `browser`), then it keeps its `$` and both are carried.
 * The customer's own names pass unchanged.
 */
export function renameVendorKeys(props: JsonObject, mapped: Readonly<Record<string, string>>, skipped: ReadonlySet<string>): JsonObject {
  const out: JsonObject = {};
  for (const key in props) {
    if (skipped.has(key) || Object.hasOwn(mapped, key) || key.charCodeAt(0) === 36) continue;
    out[key] = props[key]!;
  }
  for (const key in props) {
    if (skipped.has(key)) continue;
    const to = Object.hasOwn(mapped, key) ? mapped[key]! : key.charCodeAt(0) === 36 ? key.slice(1) : undefined;
    if (to === undefined) continue;
    // a $-name whose bare name the record also has keeps its $ (neither value is lost)
    out[to === '' || Object.hasOwn(out, to) ? key : to] = props[key]!;
  }
  return out;
}

/** A vendor's "deleted" flag: true, 1, "true", "1" (Parquet and CSV exports write booleans as numbers or text). */
export function isTrueFlag(v: JsonValue | undefined): boolean {
  if (v === true) return true;
  if (!present(v)) return false;
  const t = jsonText(v).trim().toLowerCase();
  return t === 'true' || t === '1';
}

const INTEGER = /^-?\d+$/;

/**
 * An INT64 as BigQuery's JSON export writes it (a string of digits, or a number; a long literal
 * arrives as its exact text) → a number when a double holds it exactly, else a bigint: never
 * through Number when that would lose digits (`9007199254740993`).
 */
export function int64Value(v: JsonValue): JsonValue {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v !== 'string') return v;
  const t = jsonText(v).trim();
  if (!INTEGER.test(t)) return v;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

/** A FLOAT64 written as a number, or as text that reads back to the same number; other text stays text. */
export function float64Value(v: JsonValue): JsonValue {
  if (typeof v !== 'string' || isJsonNumber(v)) return v;
  const t = v.trim();
  const n = Number(t);
  return t !== '' && Number.isFinite(n) && String(n) === t ? n : v;
}

/** A version counter (PostHog's person_version: a number, or its digits as text); -1, below every version, when absent or no integer. */
export function versionNumber(v: JsonValue | undefined): number {
  if (!present(v)) return -1;
  const t = jsonText(v).trim();
  return INTEGER.test(t) ? Number(t) : -1;
}

/** A time value as the time parser's text (an ISO string, an epoch number), or undefined when absent or empty. */
export function timeText(v: JsonValue | undefined): string | undefined {
  return present(v) ? jsonText(v).trim() : undefined;
}

/** Epoch microseconds (a number, or its digits as text: BigQuery's INT64) → epoch milliseconds, floored; undefined when no integer. */
export function microsToMillis(v: JsonValue | undefined): number | undefined {
  if (!present(v)) return undefined;
  const t = jsonText(v).trim();
  if (!INTEGER.test(t)) return undefined;
  const us = BigInt(t);
  const q = us / 1000n;
  return Number(us < 0n && q * 1000n !== us ? q - 1n : q);
}
