// What a transform imports (`--kind`), and the contract of the clean CSV of the kinds that are not
// events: which columns, in which order, of which type, and how an empty cell and a list are
// written. The transform (writer), the API sink (reader: it rebuilds typed JSON values from
// summary.json `columns`) and the simulators code against this file. docs/kinds.md says it in
// plain words. Pure: no I/O.

import { USER_FIELDS, type UserField } from './user-record.js';

/**
 * - events: one `track` action per occurrence (the default);
 * - users: one `setUserAttributes` row per user: known fields and `userAttributes.<name>`;
 * - totals: one `setUserAttributes` row per user: `events.<name>.count|firstTime|lastTime|value`.
 */
export const KINDS = ['events', 'users', 'totals'] as const;
export type Kind = (typeof KINDS)[number];
export const DEFAULT_KIND: Kind = 'events';

export const isKind = (x: unknown): x is Kind => typeof x === 'string' && (KINDS as readonly string[]).includes(x);

/** The CSV job's `defaultAction` (and the API sink's action) of a kind. */
export type LeanplumAction = 'track' | 'setUserAttributes';
export const actionOf = (kind: Kind): LeanplumAction => (kind === 'events' ? 'track' : 'setUserAttributes');

/**
 * The kind a run was transformed as, from its recorded options (manifest `transform.options.kind`);
 * runs recorded before `--kind` existed are events.
 */
export const kindOfOptions = (options: Readonly<Record<string, unknown>> | undefined): Kind => {
  const k = options?.['kind'];
  return isKind(k) ? k : DEFAULT_KIND;
};

/**
 * The type of a clean CSV column, so that the API sink can rebuild the JSON value of a cell:
 * - string: the text as it is;
 * - number: a JSON number (a decimal text, e.g. `24` or `3.5`);
 * - integer: a whole number (`count`);
 * - decimal: an exact decimal text (`value`: sent as a JSON number with these digits);
 * - epoch: whole seconds since 1970-01-01 UTC (`created`, `lastActive`, `firstTime`, `lastTime`);
 * - boolean: `true` or `false`;
 * - list: `[a, b, c]` (see formatList), sent as a JSON array of strings;
 * - string[], number[], boolean[]: the same bracket form, the items sent as strings, numbers or
 *   booleans (--kind users: a list keeps its items' type; model/user-record.ts UserColumnType).
 * An empty cell is never a value: nothing is sent for that column and user (the API sink leaves
 * the key out; the CSV job gets the empty cell).
 */
export type ColumnType = 'string' | 'number' | 'boolean' | 'list' | 'integer' | 'decimal' | 'epoch' | 'string[]' | 'number[]' | 'boolean[]';
export interface ColumnSpec {
  name: string;
  type: ColumnType;
}

/** The users kind's known fields (USER_FIELDS, model/user-record.ts: the order they are written after `userId`) with their column types. */
export const USER_FIELD_TYPES: Readonly<Record<UserField, ColumnType>> = {
  created: 'epoch',
  lastActive: 'epoch',
  locale: 'string',
  country: 'string',
  region: 'string',
  city: 'string',
  timezone: 'string',
};
export const USER_ATTRIBUTE_PREFIX = 'userAttributes.';

/** Code-point order (as the external sort orders user ids: `LC_ALL=C sort`), not locale order. */
export const codePointOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The users header: `userId`, the known fields present (USER_FIELDS order), then
 * `userAttributes.<name>` in code-point order of the names.
 */
export function usersColumns(fields: Iterable<UserField>, attributes: readonly { name: string; type: ColumnType }[]): ColumnSpec[] {
  const present = new Set(fields);
  return [
    { name: 'userId', type: 'string' },
    ...USER_FIELDS.filter((f) => present.has(f)).map((f) => ({ name: f, type: USER_FIELD_TYPES[f] })),
    ...[...attributes].sort((a, b) => codePointOrder(a.name, b.name)).map((a) => ({ name: USER_ATTRIBUTE_PREFIX + a.name, type: a.type })),
  ];
}

/** Leanplum's per-app limit of event names (LEANPLUM-API.md), which the totals header must respect. */
export const MAX_EVENT_NAMES = 500;

/** The four columns of one event in the totals kind, in this order. */
export const TOTALS_FIELDS = [
  { field: 'count', type: 'integer' },
  { field: 'firstTime', type: 'epoch' },
  { field: 'lastTime', type: 'epoch' },
  { field: 'value', type: 'decimal' },
] as const satisfies readonly { field: string; type: ColumnType }[];

/** `events.<name>.<field>`: the dot rule of Leanplum's CSV (a dot nests); inferred, not shown in Leanplum's pages. */
export const totalsColumnName = (event: string, field: (typeof TOTALS_FIELDS)[number]['field']): string => `events.${event}.${field}`;

/** The totals header: `userId`, then per event name in code-point order its count, firstTime, lastTime, value. */
export function totalsColumns(events: Iterable<string>): ColumnSpec[] {
  const out: ColumnSpec[] = [{ name: 'userId', type: 'string' }];
  for (const e of [...new Set(events)].sort(codePointOrder)) for (const f of TOTALS_FIELDS) out.push({ name: totalsColumnName(e, f.field), type: f.type });
  return out;
}

/**
 * A list in one CSV cell, in the bracket form of Leanplum's own sample row: `[Jimmy, Sara, Amy]`
 * (items joined by ", "; the CSV writer then RFC 4180-quotes the cell, which holds commas).
 */
export const formatList = (items: readonly string[]): string => `[${items.join(', ')}]`;
