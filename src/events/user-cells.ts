// `--kind users` (issue 19): one user's merged values as the cells of the clean CSV, the header,
// and the type of each column as summary.json records it. Pure.
//
// The clean CSV is read by both sinks: Leanplum's CSV job (defaultAction=setUserAttributes) and
// the API sink, which turns a row back into a setUserAttributes action with the column types of
// summary.json. So a cell must read back as the value it came from:
// - an empty cell is "not sent" (Leanplum documents no meaning for one; the API sink leaves it out);
// - a string is written as it is (RFC 4180-quoted by the writer when it holds , " or a line break);
// - a number as its shortest exact text (a number past a double's digits is already a string);
// - a boolean as true / false;
// - a list in the bracket form of Leanplum's own sample row, `[Jimmy, Sara, Amy]`: items joined by
//   ", ". An item the form cannot carry (see listProblem) leaves the whole value out for that user,
//   counted under its reason.
import { USER_FIELDS, type UserColumnType, type UserField, type UserValue, type UserValueProblem } from '../model/user-record.js';

/** A value that sets nothing: null, '' and the empty list (left out; with --clear-empty, a clear). */
export const isEmptyValue = (v: UserValue | undefined): boolean => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** Why one list item cannot go into the bracket form so that it reads back the same, or undefined. */
function itemProblem(item: UserValue): UserValueProblem | undefined {
  if (Array.isArray(item)) return 'nested_list';
  if (item === null) return 'ambiguous_list_item';
  if (typeof item !== 'string') return undefined;
  if (item === '' || /[,[\]]/.test(item) || /^\s|\s$/.test(item)) return 'ambiguous_list_item';
  return undefined;
}

/** Why a value cannot be written as a cell, or undefined when it can. */
export function valueProblem(v: UserValue): UserValueProblem | undefined {
  if (!Array.isArray(v)) return undefined;
  for (const item of v) {
    const p = itemProblem(item);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** Why a value cannot be written, in words, for summary.json, the report and rejects. */
export function valueProblemMessage(p: UserValueProblem, v: UserValue): string {
  const shown = JSON.stringify(v).slice(0, 80);
  switch (p) {
    case 'ambiguous_list_item':
      return `the list ${shown} has an item that the bracket form [a, b] cannot carry (empty, null, holding , [ or ], or with spaces at an end)`;
    case 'nested_list':
      return `the list ${shown} holds a list or an object (no bracket form for it)`;
    case 'bad_name':
      return "the attribute name breaks Leanplum's name rules";
    case 'duplicate_name':
      return 'the record already has a value under this name';
    case 'unsupported_value':
      return 'raw bytes are no attribute value';
  }
}

function scalarText(v: string | number | boolean): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : v ? 'true' : 'false';
}

/** The cell of a value that passed valueProblem; '' for an empty value. */
export function cellText(v: UserValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.length === 0 ? '' : `[${v.map((i) => scalarText(i as string | number | boolean)).join(', ')}]`;
  return scalarText(v);
}

/**
 * The type a CSV cell's text reads as: `number` when it is a number written the way the number
 * itself prints (`7`, `-3`, `1.5`; not `007`, `1.50`, `+5`, `1e3`, nor 16+ digits a double would
 * change), `boolean` for `true`/`false`, else `string`. The text is never changed: this only
 * decides how the API sink sends the column, as Leanplum's CSV importer is assumed to read it (U).
 */
export function textType(text: string): 'string' | 'number' | 'boolean' {
  if (text === 'true' || text === 'false') return 'boolean';
  const c = text.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45) {
    const n = Number(text);
    if (Number.isFinite(n) && String(n) === text) return 'number';
  }
  return 'string';
}

/**
 * The type of one non-empty value. A list's type is its items' type; items of several types make
 * string[]. `text`: the value is a CSV cell (a string read by textType).
 */
export function valueType(v: UserValue, text = false): UserColumnType {
  if (text && typeof v === 'string') return textType(v);
  if (Array.isArray(v)) {
    let t: string | undefined;
    for (const i of v) {
      const it = typeof i;
      if (t === undefined) t = it;
      else if (t !== it) return 'string[]';
    }
    return t === 'number' ? 'number[]' : t === 'boolean' ? 'boolean[]' : 'string[]';
  }
  return typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
}

/** The clean CSV's header: userId, the fields present in their fixed order, then the attributes in code-point order. */
export function usersHeader(fields: Iterable<UserField>, attributes: Iterable<string>): string[] {
  const present = new Set(fields);
  const names = [...new Set(attributes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ['userId', ...USER_FIELDS.filter((f) => present.has(f)), ...names.map((n) => `userAttributes.${n}`)];
}

/** A column's type, decided from the types of its values, and the counts when they disagree. */
export interface DecidedColumn {
  type: UserColumnType;
  /** several types were seen: how many values of each (the column became string or string[]) */
  conflict?: Partial<Record<UserColumnType, number>>;
}

/**
 * One column's decision: the one type all its values share; when they disagree, `string[]` if all
 * are lists, else `string` — every cell is then sent as the text written, and the conflict is
 * reported (a value is never converted). A column without values is a string column.
 */
export function decideColumnType(counts: Partial<Record<UserColumnType, number>>): DecidedColumn {
  const seen = (Object.keys(counts) as UserColumnType[]).filter((t) => (counts[t] ?? 0) > 0);
  if (seen.length === 0) return { type: 'string' };
  if (seen.length === 1) return { type: seen[0]! };
  return { type: seen.every((t) => t.endsWith('[]')) ? 'string[]' : 'string', conflict: { ...counts } };
}

/** Per column, how many values of each type were written. */
export class ColumnTypes {
  private readonly byColumn = new Map<string, Partial<Record<UserColumnType, number>>>();

  add(column: string, v: UserValue, text = false): void {
    let c = this.byColumn.get(column);
    if (c === undefined) this.byColumn.set(column, (c = {}));
    const t = valueType(v, text);
    c[t] = (c[t] ?? 0) + 1;
  }

  /** How many values of each type a column had. */
  counts(column: string): Partial<Record<UserColumnType, number>> {
    return { ...(this.byColumn.get(column) ?? {}) };
  }

  /** Every column of the header, decided. */
  decide(header: readonly string[]): Record<string, DecidedColumn> {
    const out: Record<string, DecidedColumn> = {};
    for (const h of header) out[h] = h === 'userId' ? { type: 'string' } : decideColumnType(this.byColumn.get(h) ?? {});
    return out;
  }
}
