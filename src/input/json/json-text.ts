// JSON text → values without losing digits. JSON.parse reads every number as a double, so a
// 19-digit id becomes 1234567890123456800. Lines holding a run of 16 or more digits (the only
// place a number can have more digits than a double keeps) go through a small scanner first that
// takes such number literals out of the number syntax: their exact source text travels as a
// string marked with a leading NUL, which no JSON string can hold unescaped. Every other line is
// read by JSON.parse alone, so the common case costs nothing extra.

/** A number literal kept as its source text (a string starting with this mark). */
const MARK = '\u0000';
const MARK_CODE = 0;
/**
 * A run of 16 digits: more than a double holds exactly (integers past 2^53 ≈ 9.007e15). Anchored
 * on the character before the run, which lets the regex engine skip ahead: 4× faster than \d{16}.
 */
const LONG_NUMBER = /(?:^|[^0-9])[0-9]{16}/;

export type JsonValue = null | boolean | number | string | bigint | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type ParsedJson = { ok: true; value: JsonValue } | { ok: false; message: string };

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * The text with each number literal of 16 or more digits turned into a marked string holding its
 * exact source text. Strings are skipped (escapes included), so digits inside them stay as they are.
 */
export function protectLongNumbers(text: string): string {
  let out = '';
  let from = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: jump to its closing quote (one not preceded by an odd number of backslashes)
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j === -1) return text; // unterminated: JSON.parse reports it
        let k = j - 1;
        while (text.charCodeAt(k) === 92) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      i = j + 1;
    } else if (isDigit(c) || c === 45) {
      let j = i + 1;
      let digits = isDigit(c) ? 1 : 0;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (isDigit(d)) digits++;
        else if (d !== 46 && d !== 101 && d !== 69 && d !== 43 && d !== 45) break;
      }
      if (digits >= 16) {
        out += text.slice(from, i) + '"\\u0000' + text.slice(i, j) + '"';
        from = j;
      }
      i = j;
    } else i++;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** Parses one JSON text; numbers of 16+ digits keep their exact text (see jsonText). */
export function parseJson(text: string): ParsedJson {
  try {
    return { ok: true, value: JSON.parse(LONG_NUMBER.test(text) ? protectLongNumbers(text) : text) as JsonValue };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

export const isJsonObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);

/** What kind of JSON value this is, for messages. */
export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.charCodeAt(0) === MARK_CODE ? 'a number' : 'a string';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/**
 * A scalar as the text of a CSV field: strings as they are, numbers as their shortest exact text
 * (long ones as written in the source), booleans as true/false, null and absent as ''. Objects and
 * arrays as compact JSON, long numbers inside them written as numbers again.
 */
export function jsonText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v.charCodeAt(0) === MARK_CODE ? v.slice(1) : v;
    case 'number':
      return Number.isFinite(v) ? String(v) : '';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '';
    default:
      if (v === null) return '';
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
      return stringifyJson(v);
  }
}

/**
 * Does JSON.stringify need stringifyJson's replacer for this value: a bigint, a marked string,
 * bytes, an object that is not a plain object, an array or a Date, or nesting deeper than 8 (not
 * looked into)? Most values (Mixpanel's `items` arrays) need none, and the replacer, a call per
 * value, costs several times the check.
 */
function needsReplacer(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return v.charCodeAt(0) === MARK_CODE;
    case 'bigint':
      return true;
    case 'object': {
      if (v === null || v instanceof Date) return false;
      if (depth > 8) return true;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (needsReplacer(v[i], depth + 1)) return true;
        return false;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return true;
      for (const k in v) if (needsReplacer((v as Record<string, unknown>)[k], depth + 1)) return true;
      return false;
    }
    default:
      return false;
  }
}

/** JSON.stringify that writes marked strings and bigints as the numbers they were. */
export function stringifyJson(v: unknown): string {
  if (!needsReplacer(v, 0)) return JSON.stringify(v) ?? '';
  let marked = false;
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') {
      marked = true;
      return MARK + x.toString();
    }
    if (typeof x === 'string' && x.charCodeAt(0) === MARK_CODE) marked = true;
    if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
    return x;
  });
  if (text === undefined) return '';
  return marked ? text.replace(/"\\u0000([^"]*)"/g, '$1') : text;
}

/** Is this value a number (a JSON number, a long one kept as text, or a bigint)? */
export const isJsonNumber = (v: unknown): boolean => typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && v.charCodeAt(0) === MARK_CODE);
