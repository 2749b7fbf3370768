import { safeSuggestion } from '../input/header-names.js';
import { closestName, resolveMapping, suggestColumn, type ResolvedMapping, type TargetField } from '../input/mapping.js';
import { shown } from '../input/shown.js';
import { MAX_PARAMS_PER_EVENT, nameProblem } from '../events/names.js';
import { BackfillError } from '../errors.js';
import type { RejectReason } from '../events/reasons.js';
import { isJsonObject, jsonKind, jsonText, type JsonObject, type JsonValue } from '../input/json/json-text.js';
import { compilePath, walkLeaves, walkPaths } from '../input/json/paths.js';
import type { Preset, VendorEvent } from './types.js';

/** How JSON records (NDJSON lines, array elements, Parquet rows) become the row step's fields. */
export interface JsonMappingOptions {
  preset?: Preset | undefined;
  /** Leanplum field → dotted path; wins over the preset */
  map: Partial<Record<TargetField, string>>;
  /** --param <path>[=<name>]: wins over a preset's or --params-from parameter of the same name */
  params: readonly { column: string; name: string }[];
  /** --params-from <path>: every key of that object becomes a parameter (nested objects flattened with .) */
  paramsFrom: readonly string[];
  countColumn?: string | undefined;
  firstColumn?: string | undefined;
  lastColumn?: string | undefined;
  originalTimeParam?: string | undefined;
  /** --dedupe-key <path>: the vendor event id, instead of the preset's */
  dedupeKey?: string | undefined;
  /** --anonymous <path>: the user id for records without one */
  anonymous?: string | undefined;
  /**
   * --max-reject-rate: when more than this share (and more than half) of the records read ahead
   * have no user id while the preset's anonymous id is there, the transform stops before output
   * and names --anonymous (the run would end above the rate anyway).
   */
  maxRejectRate?: number | undefined;
}

/** A record the projection refuses before the row step (a user id that is not a string or an integer). */
export interface ProjectionReject {
  kind: 'rejected';
  reason: RejectReason;
  message: string;
}

/** A path the user gave, and whether any record read ahead has it. */
interface GivenPath {
  /** the flag as the advice writes it, up to the path: `--map value=`, `--param ` */
  flag: string;
  path: string;
  /** after the path in the advice: `=<name>` of a --param */
  suffix: string;
  /** the field it feeds, for the aliases of "did you mean" */
  field: TargetField | undefined;
  read: (r: unknown) => JsonValue | undefined;
  matched: boolean;
}

/** A parameter the output could not carry, and on how many rows. */
export interface ParamProblem {
  name: string;
  rows: number;
  why: 'bad_name' | 'not_in_header';
  message: string;
}

/** What the projection tells about parameters and users, for the summary and the report. */
export interface ProjectionNotes {
  /** records that had no user id and took it from --anonymous */
  anonymousUserRows: number;
  /** rows with more than 50 non-empty parameters, and the values left out of them */
  paramsOverLimitRows: number;
  paramsOverLimitValues: number;
  /** values not written because the row already had that parameter name (an explicit --param, or a key with dots equal to a nested path) */
  paramsDuplicateValues: number;
  /** parameters not carried, by name (bounded: the first 200 names, then counted together) */
  paramsLeftOut: ParamProblem[];
  paramsLeftOutOtherNames: number;
  /** records read ahead to fix the header */
  scannedRecords: number;
}

/** Fixed columns of the virtual header, ahead of the parameters. Never valid parameter or field names. */
const COL = { count: '#count', first: '#first', last: '#last', dedupe: '#dedupe' } as const;
const MAX_NAMED_PROBLEMS = 200;
const MAX_PATHS_SEEN = 500;

const DEFAULT_PATH: Readonly<Record<TargetField, string>> = { userId: 'userId', event: 'event', time: 'time', value: 'value', currencyCode: 'currencyCode' };

/**
 * JSON records → the field arrays the row step reads, through a preset and/or dotted paths. The
 * header is virtual: userId, event, time, [value], [currencyCode], then the parameters. Parameter
 * names come from the first records (scan()); freeze() fixes the header; project() then maps each
 * record. Every parameter of a record is either written, or counted in the notes (name Leanplum
 * refuses, beyond 50 on one event, first seen after the scan) — none is dropped silently.
 */
export class JsonProjection {
  private readonly found = new Map<string, true>();
  private readonly badNames = new Map<string, { message: string; rows: number }>();
  private readonly late = new Map<string, number>();
  private lateOther = 0;
  private readonly pathsSeen = new Set<string>();
  private readonly seenField = { userId: false, event: false, time: false, value: false, currencyCode: false };
  private scanned = 0;
  /** records read ahead that are events (not not_track), those with each required field non-empty, and without a user id */
  private scanEvents = 0;
  private readonly scanHas = { userId: 0, event: 0, time: 0 };
  private scanNoUser = 0;
  /** of those without a user id: how many have the preset's anonymous id */
  private scanAnonymousThere = 0;
  private readonly given: GivenPath[] = [];
  private readonly presetAnonymous: ((r: unknown) => JsonValue | undefined) | undefined;
  private header: string[] | undefined;
  /** parameter name → its column in the field array */
  private readonly column = new Map<string, number>();
  private paramStart = 0;
  private width = 0;
  private hasValue = false;
  private hasCurrency = false;
  private readonly limit: number;
  readonly notes: ProjectionNotes = {
    anonymousUserRows: 0,
    paramsOverLimitRows: 0,
    paramsOverLimitValues: 0,
    paramsDuplicateValues: 0,
    paramsLeftOut: [],
    paramsLeftOutOtherNames: 0,
    scannedRecords: 0,
  };

  /** the paths of the options, made into readers once */
  private readonly get: {
    map: Partial<Record<TargetField, (r: unknown) => JsonValue | undefined>>;
    params: { name: string; read: (r: unknown) => JsonValue | undefined }[];
    paramsFrom: ((r: unknown) => JsonValue | undefined)[];
    count: ((r: unknown) => JsonValue | undefined) | undefined;
    first: ((r: unknown) => JsonValue | undefined) | undefined;
    last: ((r: unknown) => JsonValue | undefined) | undefined;
    dedupe: ((r: unknown) => JsonValue | undefined) | undefined;
    anonymous: ((r: unknown) => JsonValue | undefined) | undefined;
  };
  /** the record being projected: its field array, and how many parameters it has filled */
  private f: string[] = [];
  private filled = 0;
  /** read() took the user id from --anonymous */
  private anonymous = false;

  constructor(private readonly o: JsonMappingOptions) {
    this.limit = MAX_PARAMS_PER_EVENT - (o.originalTimeParam !== undefined ? 1 : 0);
    const opt = (path: string | undefined) => (path === undefined ? undefined : compilePath(path));
    const map: Partial<Record<TargetField, (r: unknown) => JsonValue | undefined>> = {};
    for (const [k, path] of Object.entries(o.map) as [TargetField, string][]) map[k] = compilePath(path);
    this.get = {
      map,
      params: o.params.map((p) => ({ name: p.name, read: compilePath(p.column) })),
      paramsFrom: o.paramsFrom.map((p) => compilePath(p, true)),
      count: opt(o.countColumn),
      first: opt(o.firstColumn),
      last: opt(o.lastColumn),
      dedupe: opt(o.dedupeKey),
      anonymous: opt(o.anonymous),
    };
    const give = (flag: string, path: string | undefined, field?: TargetField, suffix = '') => {
      if (path !== undefined) this.given.push({ flag, path, suffix, field, read: compilePath(path), matched: false });
    };
    for (const [k, path] of Object.entries(o.map) as [TargetField, string][]) give(`--map ${k}=`, path, k);
    for (const p of o.params) give('--param ', p.column, undefined, `=${p.name}`);
    for (const p of o.paramsFrom) give('--params-from ', p);
    give('--count-column ', o.countColumn);
    give('--first-column ', o.firstColumn);
    give('--last-column ', o.lastColumn);
    give('--dedupe-key ', o.dedupeKey);
    give('--anonymous ', o.anonymous, 'userId');
    const anon = o.preset?.anonymousId;
    this.presetAnonymous = anon === undefined || o.anonymous !== undefined ? undefined : compilePath(anon);
  }

  /** The record as an event: the preset's reading (or the default paths), then --map and --anonymous. */
  private read(r: JsonObject): VendorEvent | 'not_track' {
    const ev = this.o.preset !== undefined ? this.o.preset.read(r) : defaultRead(r);
    if (ev === 'not_track') return ev;
    const g = this.get;
    const m = g.map;
    if (m.userId !== undefined) ev.userId = m.userId(r);
    if (m.event !== undefined) ev.event = m.event(r);
    if (m.time !== undefined) ev.time = jsonText(m.time(r));
    if (m.value !== undefined) ev.value = jsonText(m.value(r)).trim();
    if (m.currencyCode !== undefined) ev.currencyCode = jsonText(m.currencyCode(r));
    if (g.dedupe !== undefined) ev.dedupeId = g.dedupe(r);
    this.anonymous = false;
    if (g.anonymous !== undefined && jsonText(ev.userId).trim() === '') {
      const anon = g.anonymous(r);
      if (jsonText(anon).trim() !== '') {
        ev.userId = anon;
        this.anonymous = true;
      }
    }
    return ev;
  }

  /** Every parameter leaf of the record: the preset's own, then those of --params-from objects. */
  private leaves(r: JsonObject, ev: VendorEvent, visit: (name: string, value: JsonValue) => void): void {
    if (ev.params !== undefined) walkLeaves(ev.params, '', ev.skipParam, visit);
    for (const from of this.get.paramsFrom) {
      // the path reader has parsed a JSON string at its end (once per record)
      const obj = from(r);
      if (isJsonObject(obj)) walkLeaves(obj, '', undefined, visit);
    }
  }

  private readonly learn = (name: string): void => {
    if (this.found.has(name) || this.badNames.has(name)) return;
    const why = paramNameProblem(name);
    if (why === undefined) this.found.set(name, true);
    else this.badNames.set(name, { message: `parameter name "${shown(name)}" ${why} (Leanplum refuses it)`, rows: 0 });
  };

  /** One of the first records: learns its parameter names and which paths exist. */
  scan(record: JsonValue): void {
    if (this.header !== undefined) throw new Error('scan() after freeze()');
    if (!isJsonObject(record)) return;
    this.scanned++;
    if (this.pathsSeen.size < MAX_PATHS_SEEN) walkPaths(record, '', (name) => this.pathsSeen.add(name).size < MAX_PATHS_SEEN);
    for (const g of this.given) g.matched ||= g.read(record) !== undefined;
    const ev = this.read(record);
    if (ev === 'not_track') return;
    this.scanEvents++;
    if (jsonText(ev.userId).trim() !== '') this.scanHas.userId++;
    else {
      this.scanNoUser++;
      if (this.presetAnonymous !== undefined && jsonText(this.presetAnonymous(record)).trim() !== '') this.scanAnonymousThere++;
    }
    if (jsonText(ev.event).trim() !== '') this.scanHas.event++;
    if (ev.time !== undefined && ev.time.trim() !== '') this.scanHas.time++;
    this.seenField.userId ||= ev.userId !== undefined;
    this.seenField.event ||= ev.event !== undefined;
    this.seenField.time ||= ev.time !== undefined && ev.time !== '';
    this.seenField.value ||= ev.value !== undefined && ev.value !== '';
    this.seenField.currencyCode ||= ev.currencyCode !== undefined && ev.currencyCode !== '';
    this.leaves(record, ev, this.learn);
  }

  /**
   * Fixes the header: fields, explicit --param names in the order given, then the names found,
   * sorted (that order also decides which 50 parameters a crowded event keeps). Throws, before any
   * output, when a required field's path is in none of the scanned records.
   */
  freeze(): ResolvedMapping {
    const o = this.o;
    this.notes.scannedRecords = this.scanned;
    const problems: string[] = [];
    const seen = [...this.pathsSeen];
    const seenList = `Fields seen: ${seen
      .slice(0, 40)
      .map((p) => shown(p, 60))
      .join(', ')}${seen.length > 40 ? ', …' : ''}.`;
    const reported = new Set<string>();
    if (this.scanned > 0 && o.preset === undefined) {
      for (const f of ['userId', 'event', 'time'] as const) {
        if (f === 'time' && o.firstColumn !== undefined) continue;
        if (this.seenField[f]) continue;
        const path = o.map[f] ?? DEFAULT_PATH[f];
        reported.add(`--map ${f}=`);
        const hint = safeSuggestion(suggestPath(path, f, seen));
        problems.push(
          `${f}: no record of the first ${this.scanned} has "${path}". ${seenList}${hint !== undefined ? ` Did you mean --map ${f}=${hint}?` : ` Name it with --map ${f}=<path>, or use a --preset.`}`,
        );
      }
    }
    if (this.scanned > 0 && o.preset !== undefined) problems.push(...this.presetFieldProblems(o.preset, seen, seenList, reported));
    // every other path the user named must be in at least one record read ahead
    for (const g of this.given) {
      if (g.matched || reported.has(g.flag) || this.scanned === 0) continue;
      const hint = safeSuggestion(suggestPath(g.path, g.field, seen));
      problems.push(
        `${g.flag.trim().replace(/=$/, '')}: no record of the first ${this.scanned} has "${g.path}". ${seenList}${
          hint !== undefined ? ` Did you mean ${g.flag}${hint}${g.suffix}?` : ` Check the path, or read further ahead with --scan-records.`
        }`,
      );
    }
    if (problems.length > 0)
      throw new BackfillError(
        'MISSING_COLUMN',
        problems.join('\n'),
        `Paths are dotted (properties.distinct_id) and step into JSON strings that hold objects. The fields above are those of the first ${this.scanned} records read (--scan-records).${
          this.seenField.event || o.map.event !== undefined
            ? ''
            : ` If these records are people, not events (a people export), read them with --kind users${o.preset === undefined ? '' : ` --preset ${o.preset.name}`} (docs/kinds.md).`
        }`,
      );

    this.hasValue = o.map.value !== undefined || (o.preset !== undefined ? o.preset.hasValue : this.seenField.value);
    this.hasCurrency = o.map.currencyCode !== undefined || (o.preset !== undefined ? o.preset.hasValue : this.seenField.currencyCode);
    const header = ['userId', 'event', 'time'];
    if (this.hasValue) header.push('value');
    if (this.hasCurrency) header.push('currencyCode');
    header.push(COL.dedupe);
    if (o.countColumn !== undefined) header.push(COL.count);
    if (o.firstColumn !== undefined) header.push(COL.first);
    if (o.lastColumn !== undefined) header.push(COL.last);
    this.paramStart = header.length;
    const names: string[] = [];
    for (const p of o.params) names.push(p.name);
    const explicit = new Set(names);
    for (const n of [...this.found.keys()].sort()) if (!explicit.has(n)) names.push(n);
    for (const [i, n] of names.entries()) this.column.set(n, this.paramStart + i);
    for (const n of names) header.push(`params.${n}`);
    this.header = header;
    this.width = header.length;
    const mapping = resolveMapping(header, {
      map: {},
      params: [],
      countColumn: o.countColumn === undefined ? undefined : COL.count,
      firstColumn: o.firstColumn === undefined ? undefined : COL.first,
      lastColumn: o.lastColumn === undefined ? undefined : COL.last,
      originalTimeParam: o.originalTimeParam,
      dedupeKey: COL.dedupe,
      paramsLimitedPerRow: true,
    });
    // the summary names where each field came from: paths, or the preset's rule
    const src = o.preset?.sources;
    const columns: Record<string, string> = {};
    for (const f of ['userId', 'event', 'time', 'value', 'currencyCode'] as const) {
      if ((f === 'value' && !this.hasValue) || (f === 'currencyCode' && !this.hasCurrency)) continue;
      columns[f] = o.map[f] ?? (src !== undefined ? `${src[f]} (--preset ${o.preset!.name})` : DEFAULT_PATH[f]);
    }
    if (o.dedupeKey !== undefined || (src !== undefined && !src.dedupe.startsWith('('))) columns['dedupe'] = o.dedupeKey ?? src!.dedupe;
    if (o.anonymous !== undefined) columns['anonymous'] = o.anonymous;
    if (o.countColumn !== undefined) columns['count'] = o.countColumn;
    if (o.firstColumn !== undefined) columns['first'] = o.firstColumn;
    if (o.lastColumn !== undefined) columns['last'] = o.lastColumn;
    return { ...mapping, columns, leftOut: [] };
  }

  /**
   * With a preset: a required field that none of the records read ahead has, and a user id missing
   * from most of them while the vendor's anonymous id is there (GA4 keeps signed-out visitors under
   * user_pseudo_id): stopped here, before output, instead of rejecting every row at the end.
   */
  private presetFieldProblems(preset: Preset, seen: readonly string[], seenList: string, reported: Set<string>): string[] {
    const o = this.o;
    const out: string[] = [];
    const n = this.scanEvents;
    if (n === 0) return out;
    const anon = preset.anonymousId;
    for (const f of ['userId', 'event', 'time'] as const) {
      if (o.map[f] !== undefined || (f === 'time' && o.firstColumn !== undefined) || this.scanHas[f] > 0) continue;
      if (f === 'userId' && o.anonymous !== undefined) continue;
      reported.add(`--map ${f}=`);
      const near = safeSuggestion(suggestPath(f, f, seen));
      const fix =
        f === 'userId' && anon !== undefined && this.scanAnonymousThere > 0
          ? ` Did you mean --anonymous ${anon}? (records without a user id then take their ${anon})`
          : near !== undefined
            ? ` Did you mean --map ${f}=${near}?`
            : ` Name it with --map ${f}=<path>.`;
      out.push(`${f}: none of the first ${n} events has a value for ${preset.sources[f]} (--preset ${preset.name}). ${seenList}${fix}`);
    }
    const missing = this.scanNoUser;
    const rate = o.maxRejectRate ?? 0;
    if (
      this.scanHas.userId > 0 &&
      o.map.userId === undefined &&
      o.anonymous === undefined &&
      anon !== undefined &&
      this.scanAnonymousThere > 0 &&
      missing * 2 > n &&
      missing / n > rate
    ) {
      out.push(
        `userId: ${missing} of the first ${n} events have no ${preset.sources.userId} (signed-out visitors), more than --max-reject-rate ${rate} allows; ${this.scanAnonymousThere} of them have a ${anon}. Did you mean --anonymous ${anon}? (they are then imported under it; to leave them out instead, raise --max-reject-rate)`,
      );
    }
    return out;
  }

  /** A parameter leaf of the record being projected: into its column, or counted as left out. */
  private readonly place = (name: string, value: JsonValue): void => {
    const at = this.column.get(name);
    if (at === undefined) {
      if (jsonText(value) !== '') this.leftOut(name);
      return;
    }
    const f = this.f;
    const v = jsonText(value);
    if (v === '') return;
    if (f[at] !== '') {
      // an explicit --param, or an earlier leaf, already gave this name: the first stays
      this.notes.paramsDuplicateValues++;
      return;
    }
    f[at] = v;
    this.filled++;
  };

  /** One record → its fields in header order, or the reason it is not an event (or not one Leanplum can take). */
  project(record: JsonObject): string[] | 'not_track' | ProjectionReject {
    const ev = this.read(record);
    if (ev === 'not_track') return ev;
    const badUser = userIdProblem(ev.userId);
    if (badUser !== undefined) return { kind: 'rejected', reason: 'bad_user_id', message: badUser };
    // an event name is text: `true`, 42, {…} or […] is a field mapped wrong, not an event called "true"
    const e = ev.event;
    if (e !== undefined && e !== null && typeof e !== 'string')
      return {
        kind: 'rejected',
        reason: 'bad_event_name',
        message: `event ${shown(jsonText(e))} is not text (a JSON ${Array.isArray(e) ? 'array' : typeof e}); expected the event's name as a string`,
      };
    if (this.anonymous) this.notes.anonymousUserRows++;
    const g = this.get;
    const f = new Array<string>(this.width).fill('');
    f[0] = jsonText(ev.userId);
    f[1] = jsonText(ev.event);
    f[2] = ev.time ?? '';
    let i = 3;
    if (this.hasValue) f[i++] = ev.value ?? '';
    if (this.hasCurrency) f[i++] = ev.currencyCode ?? '';
    f[i++] = jsonText(ev.dedupeId);
    if (g.count !== undefined) f[i++] = jsonText(g.count(record));
    if (g.first !== undefined) f[i++] = jsonText(g.first(record));
    if (g.last !== undefined) f[i++] = jsonText(g.last(record));
    this.f = f;
    this.filled = 0;
    for (const p of g.params) {
      const v = jsonText(p.read(record));
      if (v !== '') {
        f[this.column.get(p.name)!] = v;
        this.filled++;
      }
    }
    this.leaves(record, ev, this.place);
    if (this.filled > this.limit) {
      // keep the first ones in header order: explicit --params, then names alphabetically
      let kept = 0;
      for (let c = this.paramStart; c < this.width; c++) {
        if (f[c] === '') continue;
        if (kept < this.limit) kept++;
        else {
          f[c] = '';
          this.notes.paramsOverLimitValues++;
        }
      }
      this.notes.paramsOverLimitRows++;
    }
    this.f = EMPTY;
    return f;
  }

  private leftOut(name: string): void {
    const bad = this.badNames.get(name);
    if (bad !== undefined) {
      bad.rows++;
      return;
    }
    const n = this.late.get(name);
    if (n !== undefined) this.late.set(name, n + 1);
    else if (this.late.size + this.badNames.size < MAX_NAMED_PROBLEMS) {
      const why = paramNameProblem(name);
      if (why !== undefined) this.badNames.set(name, { message: `parameter name "${shown(name)}" ${why} (Leanplum refuses it)`, rows: 1 });
      else this.late.set(name, 1);
    } else this.lateOther++;
  }

  /** The parameters not carried, with the fix for each. */
  finish(): ProjectionNotes {
    const out: ParamProblem[] = [];
    for (const [name, b] of this.badNames)
      if (b.rows > 0) out.push({ name, rows: b.rows, why: 'bad_name', message: `${b.message}: carry it under another name with --param <path>=<name>` });
    for (const [name, rows] of this.late) {
      out.push({
        name,
        rows,
        why: 'not_in_header',
        message: `parameter "${shown(name)}" first appeared after the ${this.scanned} records read ahead to fix the header: carry it with --param <path>=${name}, or read more ahead with --scan-records`,
      });
    }
    out.sort((a, b) => b.rows - a.rows || (a.name < b.name ? -1 : 1));
    this.notes.paramsLeftOut = out;
    this.notes.paramsLeftOutOtherNames = this.lateOther;
    return this.notes;
  }
}

const EMPTY: string[] = [];

/** Leanplum's rules, and no spaces around the name (a CSV header cell is read trimmed). */
function paramNameProblem(name: string): string | undefined {
  if (name !== name.trim()) return 'begins or ends with whitespace';
  return nameProblem(name);
}

function defaultRead(r: JsonObject): VendorEvent {
  return {
    userId: r['userId'],
    event: r['event'],
    time: jsonText(r['time']),
    value: jsonText(r['value']).trim(),
    currencyCode: jsonText(r['currencyCode']),
    params: undefined,
  };
}

/**
 * The seen path most likely meant: the one closest to the path the user typed (by its last segment
 * too, when the typed path has no dot: `amount` → `properties.amount`), else, when nothing is close,
 * one named like the field's common names (`timestamp` for time), as for CSV columns.
 */
function suggestPath(typed: string, field: TargetField | undefined, paths: readonly string[]): string | undefined {
  const near = closestName(typed, paths);
  if (near !== undefined) return near;
  const last = paths.map((p) => p.slice(p.lastIndexOf('.') + 1));
  if (!typed.includes('.')) {
    const hit = closestName(typed, last);
    if (hit !== undefined) return paths[last.indexOf(hit)];
  }
  if (field === undefined) return undefined;
  const hit = suggestColumn(field, last, field);
  return hit === undefined ? undefined : paths[last.indexOf(hit)];
}

const INTEGER_TEXT = /^-?\d+$/;

/**
 * Why a JSON user id is not one Leanplum can take, or undefined: a user id is a string or an
 * integer (an exact one: a long integer keeps its digits, see json-text.ts). true, {"a":1}, ["x"]
 * and 1.5 would be imported as the users "true", "{""a"":1}"… (absent and null: missing_user_id).
 */
export function userIdProblem(v: JsonValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'bigint') return undefined;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return undefined;
    return Number.isInteger(v)
      ? `userId ${jsonText(v)} is a number too large to be an exact integer; expected a string or an integer written in full`
      : `userId ${jsonText(v)} is a number that is not an integer; expected a string or an integer`;
  }
  if (typeof v === 'string') {
    if (v.charCodeAt(0) !== 0) return undefined;
    // a long number literal kept as its text
    return INTEGER_TEXT.test(v.slice(1)) ? undefined : `userId ${v.slice(1)} is a number that is not an integer; expected a string or an integer`;
  }
  const kind = v instanceof Date ? 'a date' : v instanceof Uint8Array ? 'bytes' : jsonKind(v);
  const shown = jsonText(v);
  return `userId is ${kind} (${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}); expected a string or an integer`;
}
