// Small pure helpers the presets share.
import { jsonText, type JsonValue } from '../input/json/json-text.js';

/** A value is there when it is not null/absent and its text is not empty. */
export const present = (v: JsonValue | undefined): v is JsonValue => v !== undefined && v !== null && jsonText(v).trim() !== '';

/** The first value that is present. */
export function firstPresent(...vs: (JsonValue | undefined)[]): JsonValue | undefined {
  for (const v of vs) if (present(v)) return v;
  return undefined;
}

const NAIVE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?$/;

/** A date-time without an offset that the vendor documents as UTC gets its Z (else --tz would apply). */
export function utcIfNaive(v: JsonValue | undefined): string | undefined {
  if (!present(v)) return undefined;
  const t = jsonText(v).trim();
  return NAIVE.test(t) ? `${t}Z` : t;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/**
 * The exact product of two decimal texts (`9.99` × `3` = `29.97`, where doubles give
 * 29.970000000000002), or undefined when either is not a plain decimal number.
 */
export function decimalProduct(a: string, b: string): string | undefined {
  const x = DECIMAL.exec(a.trim());
  const y = DECIMAL.exec(b.trim());
  if (!x || !y) return undefined;
  const fx = x[3] ?? '';
  const fy = y[3] ?? '';
  const scale = fx.length + fy.length;
  let p = BigInt(x[2]! + fx) * BigInt(y[2]! + fy);
  const negative = (x[1] === '-') !== (y[1] === '-') && p !== 0n;
  if (p < 0n) p = -p;
  const digits = p.toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return (negative ? '-' : '') + (frac === '' ? int : `${int}.${frac}`);
}

/** A value as decimal text, when it is a number or a string holding one. */
export function decimalText(v: JsonValue | undefined): string | undefined {
  if (!present(v)) return undefined;
  const t = jsonText(v).trim();
  return t;
}
