import { BackfillError } from '../errors.js';
import type { ParamColumn, RowLayout } from '../events/layout.js';
import { MAX_PARAMS_PER_EVENT, nameProblem } from '../events/names.js';
import { ambiguity, safeSuggestion } from './header-names.js';
import { shown, shownList } from './shown.js';

export const TARGET_FIELDS = ['userId', 'event', 'time', 'value', 'currencyCode'] as const;
export type TargetField = (typeof TARGET_FIELDS)[number];

export interface MappingOptions {
  /** target field → source column */
  map: Partial<Record<TargetField, string>>;
  /** extra source columns carried as params.<name> */
  params: readonly { column: string; name: string }[];
  countColumn?: string | undefined;
  firstColumn?: string | undefined;
  lastColumn?: string | undefined;
  /** adds params.<name> holding the original time of clamped rows */
  originalTimeParam?: string | undefined;
  /** --dedupe-key: the column (or JSON path) holding the vendor's event id */
  dedupeKey?: string | undefined;
  /**
   * JSON inputs: the header is the union of every record's parameters, so the 50-per-event limit
   * is applied to each row's non-empty parameters instead of to the header.
   */
  paramsLimitedPerRow?: boolean | undefined;
}

export interface ResolvedMapping {
  layout: RowLayout;
  /** the clean CSV header */
  outputHeader: string[];
  /** target field → the source column it came from */
  columns: Record<string, string>;
  /** source columns not carried into the output */
  leftOut: string[];
}

/** Names that exports commonly use for each field, for the "did you mean" hint. */
const SYNONYMS: Readonly<Record<TargetField, readonly string[]>> = {
  userId: ['user_id', 'userid', 'uid', 'user', 'visitor_id', 'customer_id', 'player_id', 'distinct_id', 'device_id', 'account_id'],
  event: ['event_name', 'eventname', 'event_type', 'name', 'action', 'type', 'event_key'],
  time: ['timestamp', 'ts', 'event_time', 'eventtime', 'time_utc', 'created_at', 'occurred_at', 'datetime', 'date', 'event_ts', 'first_time', 'last_time'],
  value: ['amount', 'revenue', 'price', 'total', 'val'],
  currencyCode: ['currency', 'currency_code', 'iso_currency'],
};

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9.]/g, '');

/**
 * A name as compared: whole, and its last word (`event_timestamp` → `timestamp`), so that a
 * mistyped `timestmp` finds `event_timestamp` rather than whatever is a few letters off.
 */
const forms = (name: string): string[] => {
  const last = name.split(/[_\-\s.]+/).at(-1) ?? '';
  return last.length >= 3 && last.length < name.length ? [norm(name), norm(last)] : [norm(name)];
};

/**
 * The name most likely meant by a mistyped one: the closest by edit distance (case, `_`, `-` and
 * spaces ignored), if it is close — at most a third of the typed name's length away (at least 1).
 * Ties go to the first name given (header order).
 */
export function closestName(typed: string, names: readonly string[]): string | undefined {
  const t = norm(typed);
  const limit = Math.max(1, Math.floor(t.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const h of names) {
    const d = Math.min(...forms(h).map((f) => editDistance(f, t)));
    if (d < bestD && d <= limit) [best, bestD] = [h, d];
  }
  return best;
}

/**
 * The header column most likely meant for a field, if any is close: first the column closest to
 * the name the user typed (or the field's own name), then, only when none is close, a column with
 * one of the field's common names (`timestamp` for time, `user_id` for userId…).
 */
export function suggestColumn(field: TargetField, header: readonly string[], typed: string = field): string | undefined {
  const near = closestName(typed, header);
  if (near !== undefined) return near;
  const wanted = [field, ...SYNONYMS[field]].map(norm);
  const exact = header.find((h) => wanted.includes(norm(h))) ?? header.find((h) => forms(h).some((f) => wanted.includes(f)));
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestD = Infinity;
  for (const h of header) {
    for (const w of wanted) {
      const d = editDistance(norm(h), w);
      if (d < bestD && d <= Math.max(1, Math.floor(w.length / 3))) [best, bestD] = [h, d];
    }
  }
  return best;
}

function findColumn(header: readonly string[], name: string): number {
  const i = header.indexOf(name);
  if (i >= 0) return i;
  const lower = name.toLowerCase();
  return header.findIndex((h) => h.toLowerCase() === lower);
}

/**
 * Header + options → where every field sits, the output header, and what is left out.
 * Throws (before any output is written) when a required column is missing or a name is unusable.
 */
export function resolveMapping(rawHeader: readonly string[], opts: MappingOptions): ResolvedMapping {
  const header = rawHeader.map((h) => h.trim());
  const headerText = shownList(header);
  const problems: string[] = [];
  /** a name that matches more than one column: refused (never first-wins) */
  let ambiguous = false;
  const columns: Record<string, string> = {};
  const used = new Set<number>();
  const locate = (field: string, column: string | undefined, required: boolean, flag: string): number => {
    const name = column ?? field;
    const twice = ambiguity(header, name, `${flag}${name}`);
    if (twice !== undefined) {
      ambiguous = true;
      problems.push(`${field}: ${twice}`);
      return -1;
    }
    const i = findColumn(header, name);
    if (i < 0) {
      if (column !== undefined || required) {
        const suggestion = safeSuggestion(
          TARGET_FIELDS.includes(field as TargetField) ? suggestColumn(field as TargetField, header, name) : closestName(name, header),
        );
        const fix = suggestion !== undefined ? ` Did you mean ${flag}${suggestion}?` : ` Name it with ${flag}<column>.`;
        problems.push(`${field}: column "${shown(name)}" not found. Header: ${headerText}.${fix}`);
      }
      return -1;
    }
    used.add(i);
    columns[field] = header[i]!;
    return i;
  };

  const spread = opts.firstColumn !== undefined || opts.lastColumn !== undefined;
  if (spread && (opts.firstColumn === undefined || opts.lastColumn === undefined || opts.countColumn === undefined)) {
    problems.push('first-column/last-column: give both, together with --count-column');
  }
  const userId = locate('userId', opts.map.userId, true, '--map userId=');
  const event = locate('event', opts.map.event, true, '--map event=');
  const time = locate('time', opts.map.time, !spread, '--map time=');
  const value = locate('value', opts.map.value, false, '--map value=');
  const currencyCode = locate('currencyCode', opts.map.currencyCode, false, '--map currencyCode=');
  const count = opts.countColumn === undefined ? -1 : locate('count', opts.countColumn, true, '--count-column ');
  const first = opts.firstColumn === undefined ? -1 : locate('first', opts.firstColumn, true, '--first-column ');
  const last = opts.lastColumn === undefined ? -1 : locate('last', opts.lastColumn, true, '--last-column ');
  const dedupe = opts.dedupeKey === undefined ? -1 : locate('dedupe', opts.dedupeKey, true, '--dedupe-key ');

  const params: ParamColumn[] = [];
  for (const p of opts.params) {
    const twice = ambiguity(header, p.column, `--param ${p.column}`);
    const i = twice === undefined ? findColumn(header, p.column) : -1;
    if (twice !== undefined) {
      ambiguous = true;
      problems.push(`param: ${twice}`);
    } else if (i < 0) {
      const near = safeSuggestion(closestName(p.column, header));
      problems.push(
        `param: column "${shown(p.column)}" not found. Header: ${headerText}.${near !== undefined ? ` Did you mean --param ${near}=${p.name}?` : ''}`,
      );
    } else {
      used.add(i);
      params.push({ index: i, name: p.name });
    }
  }
  header.forEach((h, i) => {
    if (!used.has(i) && h.startsWith('params.') && header.indexOf(h) !== header.lastIndexOf(h)) {
      // a params.* column carries itself: two of one name would be first-wins
      if (header.indexOf(h) === i) {
        ambiguous = true;
        problems.push(`param: ${ambiguity(header, h, 'a params.* column (carried by its name)')}`);
      }
      return;
    }
    if (!used.has(i) && h.startsWith('params.')) {
      used.add(i);
      params.push({ index: i, name: h.slice('params.'.length) });
    }
  });
  params.sort((a, b) => a.index - b.index);
  const paramNames = params.map((p) => p.name);
  if (opts.originalTimeParam !== undefined) paramNames.push(opts.originalTimeParam);
  for (const name of paramNames) {
    const why = nameProblem(name);
    if (why !== undefined) problems.push(`param: name "${shown(name)}" ${why} (Leanplum refuses it). Rename it with --param <column>=<name>.`);
  }
  const dup = paramNames.find((n, i) => paramNames.indexOf(n) !== i);
  if (dup !== undefined) problems.push(`param: "${shown(dup)}" appears twice in the output`);
  if (paramNames.length > MAX_PARAMS_PER_EVENT && opts.paramsLimitedPerRow !== true) {
    problems.push(`param: ${paramNames.length} parameters, Leanplum accepts at most ${MAX_PARAMS_PER_EVENT} per event. Carry fewer columns.`);
  }
  if (problems.length > 0) {
    const missing = problems.some((p) => p.includes('not found'));
    throw new BackfillError(
      missing && !ambiguous ? 'MISSING_COLUMN' : 'BAD_HEADER',
      problems.join('\n'),
      ambiguous
        ? 'Rename the columns in the export so that each name is unique (e.g. level and level_2), then map the one you mean by its new name. See docs/inputs-encoding.md.'
        : event < 0 && opts.map.event === undefined
          ? // no event column and none named: the likeliest mistake is the kind, not the mapping
            'If the file holds user attributes (a row per user, no event), read it with --kind users (docs/kinds.md).'
          : undefined,
    );
  }

  const outputHeader = ['userId', 'event', 'time'];
  if (value >= 0) outputHeader.push('value');
  if (currencyCode >= 0) outputHeader.push('currencyCode');
  for (const n of paramNames) outputHeader.push(`params.${n}`);
  return {
    layout: { width: header.length, userId, event, time, value, currencyCode, count, first, last, dedupe, params },
    outputHeader,
    columns,
    leftOut: header.filter((_, i) => !used.has(i)),
  };
}
