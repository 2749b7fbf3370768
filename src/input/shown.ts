// How text that came from an input (a header, a column name, a value, a zip entry name) is
// quoted in a message: escaped so a terminal shows what is there (NUL, control characters,
// invisible format characters), and cut so one odd value cannot flood the screen.

/** The longest text a message quotes from an input, in characters, the ellipsis included. */
export const SHOWN_MAX = 120;

/** Characters that print as nothing or move the cursor: C0/C1 controls, DEL, invisible format characters, line separators, bidi controls, BOM. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters the function exists to escape
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/;

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '"': '\\"', '\\': '\\\\' };

/** One code point (or a lone surrogate) as a message shows it. */
function escapeOne(ch: string): string {
  const s = SHORT[ch];
  if (s !== undefined) return s;
  const c = ch.codePointAt(0)!;
  if ((c >= 0xd800 && c <= 0xdfff) || HIDDEN.test(ch)) return `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return ch;
}

/**
 * Input text as a message shows it: JSON-style escapes (`\n`, `\t`, `\"`, `\\`, `\u0000`) for
 * control characters, NUL, quotes, backslashes, lone surrogates and invisible characters; cut
 * with … past `max` characters. Meant to sit inside double quotes: `"${shown(h)}"`.
 */
export function shown(text: string, max: number = SHOWN_MAX): string {
  const pieces: string[] = [];
  let length = 0;
  for (const ch of text) {
    const e = escapeOne(ch);
    pieces.push(e);
    length += e.length;
  }
  if (length <= max) return pieces.join('');
  // cut between whole characters (never inside an escape), leaving room for the ellipsis
  let out = '';
  for (const e of pieces) {
    if (out.length + e.length > max - 1) break;
    out += e;
  }
  return `${out}…`;
}

/** Whether a message would show this text differently (it holds something `shown` escapes). */
export function needsEscape(text: string): boolean {
  for (const ch of text) if (escapeOne(ch) !== ch) return true;
  return false;
}

/** A list of names (a header) as a message shows it: each name shown, at most `most` of them, then how many more. */
export function shownList(names: readonly string[], most = 40): string {
  const head = names.slice(0, most).map((n) => shown(n, 40));
  return names.length > most ? `${head.join(',')},… (${names.length - most} more)` : head.join(',');
}
