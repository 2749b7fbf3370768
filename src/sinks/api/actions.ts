import { BackfillError } from '../../errors.js';

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

/** The track action of one clean row. A row that does not fit the header is a damaged file, not data. */
export function trackAction(l: CleanLayout, fields: readonly string[], reqId: string, uuid: string): TrackAction {
  if (fields.length !== l.width) {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `a clean CSV row has ${fields.length} fields, its header ${l.width}`,
      'The run directory was changed after the transform; transform again.',
    );
  }
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
