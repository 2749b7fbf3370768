import { BackfillError } from '../../errors.js';
import type { Kind } from '../../model/kinds.js';

/**
 * From a clean CSV row to a JSON `multi` track action. Pure.
 *
 * The clean row is the contract: the action says exactly what the CSV import would read from it.
 * How each CSV text becomes a JSON value (LEANPLUM-API.md: `time` UNIX seconds, `value` a float,
 * `currencyCode` ISO 4217, params a JSON object):
 * - `userId`, `event`: the text as written.
 * - `time`: the number the text spells (the transform writes UTC epoch seconds, fractions allowed;
 *   JSON prints the same digits back).
 * - `value`: the number the text spells; an empty cell sends no `value`.
 * - `currencyCode`: the text; an empty cell sends none.
 * - `params.<name>`: the text as written, always a JSON string (a CSV cell has no type; whether the
 *   CSV importer turns "42" into a number is not documented, and a string never loses digits or
 *   leading zeros); an empty cell sends no parameter, as the CSV importer is assumed to read it.
 */
export interface TrackAction {
  action: 'track';
  userId: string;
  event: string;
  time: number;
  value?: number;
  currencyCode?: string;
  params: Record<string, string>;
  reqId: string;
  uuid: string;
}

/** Where each field sits in the clean CSV's header. */
export interface CleanLayout {
  userId: number;
  event: number;
  time: number;
  value: number;
  currencyCode: number;
  /** `json`: the name as a JSON string, quoted once */
  params: { index: number; name: string; json: string }[];
  width: number;
}

export function cleanLayout(header: readonly string[]): CleanLayout {
  const at = (name: string) => header.indexOf(name);
  const layout: CleanLayout = {
    userId: at('userId'),
    event: at('event'),
    time: at('time'),
    value: at('value'),
    currencyCode: at('currencyCode'),
    params: [],
    width: header.length,
  };
  const unknown: string[] = [];
  header.forEach((h, index) => {
    if (h.startsWith('params.')) layout.params.push({ index, name: h.slice('params.'.length), json: JSON.stringify(h.slice('params.'.length)) });
    else if (!['userId', 'event', 'time', 'value', 'currencyCode'].includes(h)) unknown.push(h);
  });
  if (layout.userId < 0 || layout.event < 0 || layout.time < 0 || unknown.length > 0) {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `the clean CSV header is not one lp-backfill writes: expected userId,event,time[,value][,currencyCode][,params.<name>…], found ${header.join(',')}`,
      'Send only run directories made by `lp-backfill transform` (or `run`), unchanged.',
    );
  }
  return layout;
}

/** A clean row that does not fit its header is a damaged file, not data. */
function checkWidth(width: number, fields: readonly string[]): void {
  if (fields.length !== width) {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `a clean CSV row has ${fields.length} fields, its header ${width}`,
      'The run directory was changed after the transform; transform again.',
    );
  }
}

/** The track action of one clean row. A row that does not fit the header is a damaged file, not data. */
export function trackAction(l: CleanLayout, fields: readonly string[], reqId: string, uuid: string): TrackAction {
  checkWidth(l.width, fields);
  const time = Number(fields[l.time]);
  if (fields[l.time] === '' || !Number.isFinite(time)) {
    throw new BackfillError('INPUT_MALFORMED', `a clean CSV row has time "${fields[l.time]}", not epoch seconds`, 'Transform again.');
  }
  let value: number | undefined;
  if (l.value >= 0 && fields[l.value] !== '') {
    value = Number(fields[l.value]);
    if (!Number.isFinite(value)) throw new BackfillError('INPUT_MALFORMED', `a clean CSV row has value "${fields[l.value]}", not a number`, 'Transform again.');
  }
  const currencyCode = l.currencyCode >= 0 && fields[l.currencyCode] !== '' ? fields[l.currencyCode] : undefined;
  const params: Record<string, string> = {};
  for (const p of l.params) {
    const v = fields[p.index]!;
    if (v !== '') params[p.name] = v;
  }
  // the documented field order, for a reader of the ledger or a capture
  const a = { action: 'track', userId: fields[l.userId]!, event: fields[l.event]!, time } as TrackAction;
  if (value !== undefined) a.value = value;
  if (currencyCode !== undefined) a.currencyCode = currencyCode;
  a.params = params;
  a.reqId = reqId;
  a.uuid = uuid;
  return a;
}

/**
 * The same action as `JSON.stringify(trackAction(…))`, written straight from the fields: a million
 * rows then make no action objects for the collector to chase. A property test holds the two equal.
 */
export function trackActionJson(l: CleanLayout, fields: readonly string[], reqId: string, uuid: string): string {
  if (fields.length !== l.width) return JSON.stringify(trackAction(l, fields, reqId, uuid));
  const timeText = fields[l.time]!;
  const time = Number(timeText);
  if (timeText === '' || !Number.isFinite(time)) return JSON.stringify(trackAction(l, fields, reqId, uuid));
  let s = `{"action":"track","userId":${JSON.stringify(fields[l.userId])},"event":${JSON.stringify(fields[l.event])},"time":${JSON.stringify(time)}`;
  if (l.value >= 0 && fields[l.value] !== '') {
    const v = Number(fields[l.value]);
    if (!Number.isFinite(v)) return JSON.stringify(trackAction(l, fields, reqId, uuid));
    s += `,"value":${JSON.stringify(v)}`;
  }
  if (l.currencyCode >= 0 && fields[l.currencyCode] !== '') s += `,"currencyCode":${JSON.stringify(fields[l.currencyCode])}`;
  s += ',"params":{';
  let first = true;
  for (const p of l.params) {
    const v = fields[p.index]!;
    if (v === '') continue;
    s += `${first ? '' : ','}${p.json}:${JSON.stringify(v)}`;
    first = false;
  }
  return `${s}},"reqId":${JSON.stringify(reqId)},"uuid":${JSON.stringify(uuid)}}`;
}

/**
 * The type of a clean CSV column as summary.json `columns` records it for the users and totals
 * kinds: how the API sink turns its cells into JSON values. `list` and `<t>[]` are the bracket form
 * `[a, b, c]` (items joined by ", "); `list` and `string[]` send string items.
 */
export type SinkColumnType = 'string' | 'number' | 'boolean' | 'list' | 'integer' | 'decimal' | 'epoch' | 'string[]' | 'number[]' | 'boolean[]';
const SINK_COLUMN_TYPES: ReadonlySet<string> = new Set<SinkColumnType>([
  'string',
  'number',
  'boolean',
  'list',
  'integer',
  'decimal',
  'epoch',
  'string[]',
  'number[]',
  'boolean[]',
]);

/** setUserAttributes fields sent as numbers (whole UNIX seconds) and as text (LEANPLUM-API.md). */
const USER_NUMBER_FIELDS = new Set(['created', 'lastActive']);
const USER_TEXT_FIELDS = new Set(['locale', 'country', 'region', 'city', 'timezone']);
const EVENT_AGGREGATE_FIELDS = new Set(['count', 'firstTime', 'lastTime', 'value']);

type Cell = { index: number; kind: 'text' | 'number' | 'integer' | 'count' | 'boolean' | 'list'; items?: 'text' | 'number' | 'boolean'; column: string };

/** Where each setUserAttributes field sits in a users or totals clean CSV, and how its cells are sent. */
export interface UserLayout {
  width: number;
  /** created, lastActive (numbers), locale … timezone (text): `"name":` prefix and cell */
  fields: (Cell & { key: string })[];
  /** userAttributes.<name> */
  attributes: (Cell & { key: string })[];
  /** events.<name>.<field>, grouped by event in header order */
  events: { key: string; fields: (Cell & { key: string })[] }[];
  /** --clear-empty: the column listing, per user, the attributes to clear (sent as null) */
  clear: Cell | undefined;
}

/** --kind users --clear-empty: the column naming the attributes to clear, `[a, b]` (its users' own cells for them are empty). */
export const CLEAR_COLUMN = 'clearUserAttributes';

const malformedHeader = (header: readonly string[], why: string) =>
  new BackfillError(
    'INPUT_MALFORMED',
    `the clean CSV header is not one lp-backfill writes for setUserAttributes (${why}): ${header.join(',')}`,
    'Send only run directories made by `lp-backfill transform` (or `run`), unchanged.',
  );

/**
 * The layout of a users or totals clean CSV: `userId` first, then the documented fields
 * (created, lastActive, locale, country, region, city, timezone), `userAttributes.<name>` and
 * `events.<name>.count|firstTime|lastTime|value`. The attribute columns take their type from
 * `columns` (summary.json); the fields and event aggregates have fixed types (created, lastActive,
 * firstTime, lastTime and value numbers, count a whole number, the others text).
 */
export function userLayout(header: readonly string[], columns: readonly { name: string; type: string }[]): UserLayout {
  if (header[0] !== 'userId') throw malformedHeader(header, 'userId is not the first column');
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));
  const l: UserLayout = { width: header.length, fields: [], attributes: [], events: [], clear: undefined };
  const seen = new Set<string>();
  const events = new Map<string, UserLayout['events'][number]>();
  header.forEach((h, index) => {
    if (seen.has(h)) throw malformedHeader(header, `${h} twice`);
    seen.add(h);
    if (index === 0) return;
    if (USER_NUMBER_FIELDS.has(h)) l.fields.push({ index, kind: 'number', column: h, key: JSON.stringify(h) });
    else if (USER_TEXT_FIELDS.has(h)) l.fields.push({ index, kind: 'text', column: h, key: JSON.stringify(h) });
    else if (h === CLEAR_COLUMN) l.clear = { index, kind: 'list', items: 'text', column: h };
    else if (h.startsWith('userAttributes.')) {
      const name = h.slice('userAttributes.'.length);
      const type = typeOf.get(h);
      if (name === '' || name.includes('.')) throw malformedHeader(header, `${h} is not one attribute name`);
      if (type === undefined || !SINK_COLUMN_TYPES.has(type))
        throw new BackfillError(
          'INPUT_MALFORMED',
          `summary.json gives the column ${h} ${type === undefined ? 'no type' : `the type "${type}", not one of ${[...SINK_COLUMN_TYPES].join(', ')}`}: the API sink cannot tell how to send its values`,
          'Send only run directories made by `lp-backfill transform` (or `run`) of this version, unchanged; transform again.',
        );
      l.attributes.push({ index, column: h, key: JSON.stringify(name), ...cellKind(type as SinkColumnType) });
    } else if (h.startsWith('events.')) {
      const rest = h.slice('events.'.length);
      const dot = rest.lastIndexOf('.');
      const name = rest.slice(0, Math.max(0, dot));
      const field = rest.slice(dot + 1);
      if (dot <= 0 || !EVENT_AGGREGATE_FIELDS.has(field)) throw malformedHeader(header, `${h} is not events.<name>.count|firstTime|lastTime|value`);
      let e = events.get(name);
      if (e === undefined) {
        e = { key: JSON.stringify(name), fields: [] };
        events.set(name, e);
        l.events.push(e);
      }
      e.fields.push({ index, kind: field === 'count' ? 'count' : 'number', column: h, key: JSON.stringify(field) });
    } else throw malformedHeader(header, `unknown column ${h}`);
  });
  return l;
}

function cellKind(type: SinkColumnType): Pick<Cell, 'kind' | 'items'> {
  switch (type) {
    case 'string':
      return { kind: 'text' };
    case 'number':
    case 'decimal':
    case 'epoch':
      return { kind: 'number' };
    case 'integer':
      return { kind: 'integer' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'list':
    case 'string[]':
      return { kind: 'list', items: 'text' };
    case 'number[]':
      return { kind: 'list', items: 'number' };
    case 'boolean[]':
      return { kind: 'list', items: 'boolean' };
  }
}

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const LOOSE_NUMBER = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;

/**
 * The JSON number token for a decimal text, digit for digit (never through a double, which would
 * round `12345678901234567891` or `0.1000000000000000055`); undefined when the text is no number.
 * Spellings JSON does not allow are rewritten exactly: `+5` → `5`, `.5` → `0.5`, `5.` → `5`, `007` → `7`.
 */
export function jsonNumber(text: string): string | undefined {
  if (JSON_NUMBER.test(text)) return text;
  const m = LOOSE_NUMBER.exec(text);
  if (m === null) return undefined;
  const [, sign, whole = '', frac = '', exp] = m;
  if (whole === '' && frac === '') return undefined;
  const w = whole.replace(/^0+(?=[0-9])/, '') || '0';
  return `${sign === '-' ? '-' : ''}${w}${frac === '' ? '' : `.${frac}`}${exp === undefined ? '' : `e${exp}`}`;
}

function cellJson(c: Cell, text: string, kind: Cell['kind'] = c.kind): string {
  switch (kind) {
    case 'text':
      return JSON.stringify(text);
    case 'number':
    case 'integer':
    case 'count': {
      const n = jsonNumber(text);
      if (n === undefined) throw badCell(c, text, 'a number');
      if (kind === 'integer' && !/^-?[0-9]+$/.test(n)) throw badCell(c, text, 'a whole number');
      if (kind === 'count' && !/^[0-9]+$/.test(n)) throw badCell(c, text, 'a whole number ≥ 0');
      return n;
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return text;
      throw badCell(c, text, 'true or false');
    case 'list': {
      if (!text.startsWith('[') || !text.endsWith(']')) throw badCell(c, text, 'a list written [a, b, c]');
      const inner = text.slice(1, -1);
      if (inner.trim() === '') return '[]';
      const item = c.items === 'number' ? 'number' : c.items === 'boolean' ? 'boolean' : 'text';
      return `[${inner
        .split(',')
        .map((x) => cellJson(c, x.trim(), item))
        .join(',')}]`;
    }
  }
}

const badCell = (c: Cell, text: string, want: string) =>
  new BackfillError(
    'INPUT_MALFORMED',
    `a clean CSV row has ${JSON.stringify(text)} under ${c.column}, not ${want}`,
    'The run directory was changed after the transform; transform again.',
  );

/**
 * The `setUserAttributes` action of one users or totals clean row (one user), as JSON text:
 * `userId`; the fields given (created and lastActive as numbers, the rest as text);
 * `userAttributes` with each non-empty cell as its column's type (numbers digit for digit, lists
 * as JSON arrays); `events` name → {count, firstTime, lastTime, value} as numbers; `reqId`, `uuid`.
 * An empty cell sends nothing (it never clears a value); only the attributes named in the
 * `clearUserAttributes` cell (--clear-empty) are sent as null. Pure.
 */
export function setUserAttributesJson(l: UserLayout, fields: readonly string[], reqId: string, uuid: string): string {
  checkWidth(l.width, fields);
  let s = `{"action":"setUserAttributes","userId":${JSON.stringify(fields[0])}`;
  for (const f of l.fields) {
    const v = fields[f.index]!;
    if (v !== '') s += `,${f.key}:${cellJson(f, v)}`;
  }
  let first = true;
  for (const a of l.attributes) {
    const v = fields[a.index]!;
    if (v === '') continue;
    s += `${first ? ',"userAttributes":{' : ','}${a.key}:${cellJson(a, v)}`;
    first = false;
  }
  if (l.clear !== undefined && fields[l.clear.index] !== '') {
    // the attributes to clear: each as null (Leanplum's SDKs clear with null; through REST not documented)
    const names = JSON.parse(cellJson(l.clear, fields[l.clear.index]!)) as string[];
    for (const name of names) {
      const key = JSON.stringify(name);
      const a = l.attributes.find((x) => x.key === key);
      if (name === '' || (a !== undefined && fields[a.index] !== ''))
        throw badCell(l.clear, fields[l.clear.index]!, `a list of attribute names whose own cells are empty (${key})`);
      s += `${first ? ',"userAttributes":{' : ','}${key}:null`;
      first = false;
    }
  }
  if (!first) s += '}';
  first = true;
  for (const e of l.events) {
    let inner = '';
    for (const f of e.fields) {
      const v = fields[f.index]!;
      if (v !== '') inner += `${inner === '' ? '' : ','}${f.key}:${cellJson(f, v)}`;
    }
    if (inner === '') continue;
    s += `${first ? ',"events":{' : ','}${e.key}:{${inner}}`;
    first = false;
  }
  if (!first) s += '}';
  return `${s},"reqId":${JSON.stringify(reqId)},"uuid":${JSON.stringify(uuid)}}`;
}

/** The action of each clean row of a run: where its user id sits, and its JSON text. */
export interface RowActions {
  action: 'track' | 'setUserAttributes';
  userId: number;
  json(fields: readonly string[], reqId: string, uuid: string): string;
}

/**
 * The kind's action for a clean header: `track` per occurrence (events), `setUserAttributes` per
 * user (users, totals: typed by `columns`, summary.json's record of the clean CSV's column types).
 */
export function rowActions(kind: Kind, header: readonly string[], columns: readonly { name: string; type: string }[] | null): RowActions {
  if (kind === 'events') {
    const l = cleanLayout(header);
    return { action: 'track', userId: l.userId, json: (f, r, u) => trackActionJson(l, f, r, u) };
  }
  if (columns === null)
    throw new BackfillError(
      'INPUT_MALFORMED',
      `a run of kind ${kind} needs the column types in summary.json (columns), and it has none`,
      'Send only run directories made by `lp-backfill transform` (or `run`) of this version, unchanged; transform again.',
    );
  const l = userLayout(header, columns);
  return { action: 'setUserAttributes', userId: 0, json: (f, r, u) => setUserAttributesJson(l, f, r, u) };
}
