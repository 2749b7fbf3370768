// Header names a flag refers to: a name that two columns share is refused, never resolved
// first-wins (issue 16: `level,level` with `--param level` kept the first column and said
// "left out level"); a column name is only suggested as a flag value when it can be typed.
import { needsEscape, shown } from './shown.js';

/** 1-based positions as "4 and 5", "1, 4 and 5". */
function positions(indexes: readonly number[]): string {
  const p = indexes.map((i) => String(i + 1));
  return p.length <= 1 ? (p[0] ?? '') : `${p.slice(0, -1).join(', ')} and ${p[p.length - 1]}`;
}

/**
 * Why `name` does not pick one column of the (trimmed) header, or undefined when it picks at most
 * one: two columns with exactly this name, or — when no column has exactly this name — two whose
 * names differ from it only in case. `what` is the flag that named it, for the message.
 */
export function ambiguity(header: readonly string[], name: string, what: string): string | undefined {
  const exact: number[] = [];
  header.forEach((h, i) => {
    if (h === name) exact.push(i);
  });
  if (exact.length > 1) return `"${shown(name)}" is the name of columns ${positions(exact)}; ${shown(what)} cannot tell which one is meant`;
  if (exact.length === 1) return undefined;
  const lower = name.toLowerCase();
  const loose: number[] = [];
  header.forEach((h, i) => {
    if (h.toLowerCase() === lower) loose.push(i);
  });
  if (loose.length > 1) {
    return `"${shown(name)}" matches columns ${positions(loose)} (${loose.map((i) => shown(header[i]!, 40)).join(', ')}), names that differ only in case; ${shown(what)} cannot tell which one is meant: give the exact name`;
  }
  return undefined;
}

/**
 * A column name as a flag value a user can copy: undefined when it holds characters a message
 * escapes (control characters, NUL: a file in another encoding, not a name to map), single-quoted
 * for the shell when it holds anything but letters, digits and `_ . - @ % + = : , /`.
 */
export function safeSuggestion(name: string | undefined): string | undefined {
  if (name === undefined || name === '' || needsEscape(name)) return undefined;
  return /^[\w@%+=:,./-]+$/.test(name) ? name : `'${name.replaceAll("'", `'\\''`)}'`;
}

/**
 * A flag and its value (`raw`, written as `shellText`: quoted for the shell where needed) as a
 * command the user can copy: `--flag=value` when the value starts with "-", which the option parser
 * would otherwise read as flags of their own (`--rename-attr -x=x`: "Unknown argument: x").
 */
export function flagAndValue(flag: string, raw: string, shellText: string): string {
  return raw.startsWith('-') ? `${flag}=${shellText}` : `${flag} ${shellText}`;
}
