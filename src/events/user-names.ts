// Attribute names of `--kind users` (issue 19): Leanplum's name rules (names.ts), plus the dot,
// which Leanplum's CSV reads as nesting (`userAttributes.address.city`, LEANPLUM-API.md). Pure.
import { nameProblem } from './names.js';

/** Why an attribute name cannot be written as `userAttributes.<name>`, or undefined when it can. */
export function attributeNameProblem(name: string): string | undefined {
  const p = nameProblem(name);
  if (p !== undefined) return p;
  if (name.includes('.')) return 'contains "." (a dot nests in Leanplum: userAttributes.a.b is the attribute b inside a)';
  return undefined;
}

/**
 * A name like the refused one that passes the rules: `.` and the characters Leanplum refuses
 * become `_`, a leading `-` or `.` goes, a purely numeric name gets `attr_` in front, and a name
 * too long is cut. Undefined for an empty name (there is nothing to keep).
 */
export function attributeRename(name: string): string | undefined {
  let n = name.replace(/^[-.]+/, '').replace(/[.,|"{\t\n\r]/g, '_');
  if (/^\d+(_\d+)?$/.test(n)) n = `attr_${n}`;
  n = n.slice(0, 139).replace(/\/+$/, '');
  if (n === '' || attributeNameProblem(n) !== undefined) return undefined;
  return n;
}
