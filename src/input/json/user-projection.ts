// `--kind users` (issue 19) from JSON records (NDJSON lines, JSON array elements, Parquet rows):
// - without a preset: dotted paths for the user id, the record's time and the known fields; every
//   other key an attribute (objects flattened with `_`) unless --attr names the only ones;
// - with a preset: presets/user-projection.ts, on the same parts.
import { USER_FIELDS, type ProjectedUsers, type RawUserRecord, type RawUserResult, type UserField, type UserValue } from '../../model/user-record.js';
import type { UserMappingOptions } from '../user-mapping.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json-text.js';
import { compilePath, walkPaths } from './paths.js';
import { BackfillError } from '../../errors.js';
import { safeSuggestion } from '../header-names.js';
import { closestName, suggestColumn } from '../mapping.js';
import { shown } from '../shown.js';
import { isRefused, userValueOf } from './user-values.js';

type Reader = (r: unknown) => JsonValue | undefined;

/** One JSON record → a raw user record (or a decision); the transform's users row step reads it. */
export interface UsersProjection {
  project(rec: JsonObject): ProjectedUsers;
}

/**
 * The attribute part, shared by both projections: a value under a name (and its dotted source
 * path), objects flattened with `_`; --drop-attr (a path, a top-level key, or a flattened name)
 * leaves it out, --rename-attr (flattened name or path) renames it. Without a name list (`only`)
 * every value passes; with one (--attr on a preset's names), only those names, renamed as given.
 */
export class Attributes {
  private readonly skip: Set<string>;
  private readonly renames: Map<string, string>;

  constructor(
    opts: UserMappingOptions,
    skip: Iterable<string>,
    private readonly only: Map<string, string> | undefined,
  ) {
    this.skip = new Set([...skip, ...opts.dropAttrs]);
    this.renames = new Map(opts.renames.map((r) => [r.column, r.name]));
  }

  put(out: RawUserRecord, name: string, path: string, v: JsonValue | undefined): void {
    if (v === undefined || this.skip.has(path) || this.skip.has(name)) return;
    if (isJsonObject(v)) {
      let any = false;
      for (const k in v) {
        any = true;
        this.put(out, `${name}_${k}`, `${path}.${k}`, v[k]);
      }
      if (!any) this.set(out, name, path, null);
      return;
    }
    this.set(out, name, path, v);
  }

  /** The name a value under `flat` (from `path`) is carried as; undefined: not carried (--attr names others). */
  nameOf(flat: string, path: string): string | undefined {
    const renamed = this.renames.get(flat) ?? this.renames.get(path);
    if (this.only === undefined) return renamed ?? flat;
    const to = this.only.get(flat);
    return to === undefined ? undefined : (renamed ?? to);
  }

  private set(out: RawUserRecord, flat: string, path: string, v: JsonValue | null): void {
    const name = this.nameOf(flat, path);
    if (name === undefined) return;
    const u = userValueOf(v);
    if (Object.hasOwn(out.attributes, name) || out.refused!.some((r) => r.name === name)) {
      out.refused!.push({ name, problem: 'duplicate_name', value: isRefused(u) ? null : u });
      return;
    }
    if (isRefused(u)) out.refused!.push({ name, problem: u.problem, value: null });
    else out.attributes[name] = u;
  }
}

export const newRecord = (userId: UserValue): RawUserRecord => ({
  userId,
  time: undefined,
  fields: {},
  attributes: Object.create(null) as Record<string, UserValue>,
  refused: [],
});

/** A field's value: a scalar; an object or a list is left out (unsupported_value), named. */
export function putField(out: RawUserRecord, f: UserField, v: JsonValue | undefined): void {
  if (v === undefined) return;
  const u = isJsonObject(v) ? { problem: 'unsupported_value' as const } : userValueOf(v);
  if (isRefused(u)) out.refused!.push({ name: f, problem: u.problem, value: null });
  else out.fields[f] = u;
}

const absent = (v: JsonValue | undefined) => v === undefined || v === null || v === '';

/** The user id as found (else --anonymous's): a list or an object is refused. */
export function userIdOf(found: JsonValue | undefined, anonymous: Reader | undefined, rec: JsonObject): UserValue | RawUserResult {
  const v = absent(found) && anonymous !== undefined ? anonymous(rec) : found;
  const id = userValueOf(v);
  if (Array.isArray(id) || isRefused(id) || isJsonObject(v))
    return { kind: 'rejected', reason: 'bad_user_id', message: 'userId is a list or an object: expected a string or a whole number' };
  return id;
}
export const isDecision = (x: UserValue | RawUserResult): x is RawUserResult => typeof x === 'object' && x !== null && !Array.isArray(x) && 'kind' in x;

/**
 * Records without a preset. Paths are dotted (`properties.email`), as everywhere; a key that
 * holds dots is found too (paths.ts). Without --attr, the attributes are every key of the record
 * except the paths mapped to the user id, the time and the fields (a field's default path is its
 * own name), and except --drop-attr; with --attr, only the paths named, under the names given.
 */
export class UsersJsonProjection implements UsersProjection {
  private readonly userId: Reader;
  private readonly time: Reader | undefined;
  private readonly fields: { field: UserField; read: Reader }[];
  private readonly attrs: { name: string; read: Reader }[];
  private readonly attributes: Attributes;
  private readonly anonymous: Reader | undefined;

  constructor(opts: UserMappingOptions) {
    const m = opts.map;
    this.anonymous = opts.anonymous === undefined ? undefined : compilePath(opts.anonymous);
    this.userId = compilePath(m.userId ?? 'userId');
    this.time = m.time === undefined ? undefined : compilePath(m.time);
    this.fields = USER_FIELDS.map((f) => ({ field: f, read: compilePath(m[f] ?? f) }));
    this.attrs = opts.attrs.map((a) => ({ name: a.name, read: compilePath(a.column) }));
    const mapped = [
      m.userId ?? 'userId',
      ...(opts.anonymous === undefined ? [] : [opts.anonymous]),
      ...(m.time === undefined ? [] : [m.time]),
      ...USER_FIELDS.map((f) => m[f] ?? f),
    ];
    this.attributes = new Attributes(opts, mapped, undefined);
  }

  project(rec: JsonObject): RawUserResult {
    const id = userIdOf(this.userId(rec), this.anonymous, rec);
    if (isDecision(id)) return id;
    const out = newRecord(id);
    if (this.time !== undefined) {
      const t = userValueOf(this.time(rec));
      out.time = isRefused(t) ? undefined : t;
    }
    for (const f of this.fields) putField(out, f.field, f.read(rec));
    if (this.attrs.length > 0) {
      for (const a of this.attrs) this.attributes.put(out, a.name, a.name, a.read(rec));
    } else {
      for (const key in rec) this.attributes.put(out, key, key, rec[key]);
    }
    return out;
  }
}

/** A path the user named (or the user id's default), and whether a record read ahead has it. */
interface CheckedPath {
  /** the flag up to the path (`--map userId=`, `--attr `), and what follows it (`=email`) */
  flag: string;
  path: string;
  suffix: string;
  read: Reader;
  matched: boolean;
}

const MAX_PATHS_SEEN = 500;

/**
 * The read-ahead check of --kind users on JSON: every path the user named (--map, --attr; and the
 * user id's path without a preset) must be in at least one of the first records, else the run
 * stops before any output (exit 2) with the paths seen and the closest one — instead of rejecting
 * every record as missing_user_id, or carrying nothing for an --attr that names no path.
 */
export class UsersPathCheck {
  private readonly paths: CheckedPath[] = [];
  private readonly seen = new Set<string>();
  private scanned = 0;

  constructor(opts: UserMappingOptions, preset: boolean) {
    const add = (flag: string, path: string, suffix = '') => this.paths.push({ flag, path, suffix, read: compilePath(path), matched: false });
    for (const [target, path] of Object.entries(opts.map)) if (path !== undefined) add(`--map ${target}=`, path);
    if (!preset && opts.map.userId === undefined && opts.anonymous === undefined) add('--map userId=', 'userId');
    if (!preset) for (const a of opts.attrs) add('--attr ', a.column, a.name === a.column ? '' : `=${a.name}`);
  }

  scan(rec: JsonObject): void {
    this.scanned++;
    for (const p of this.paths) p.matched ||= p.read(rec) !== undefined;
    if (this.seen.size < MAX_PATHS_SEEN)
      walkPaths(rec, '', (name) => {
        this.seen.add(name);
        return this.seen.size < MAX_PATHS_SEEN;
      });
  }

  /** Throws MISSING_COLUMN naming every path no record read ahead has. */
  check(): void {
    if (this.scanned === 0) return;
    const seen = [...this.seen];
    const seenList = `Fields seen: ${seen
      .slice(0, 40)
      .map((p) => shown(p, 60))
      .join(', ')}${seen.length > 40 ? ', …' : ''}.`;
    const problems = this.paths
      .filter((p) => !p.matched)
      .map((p) => {
        const near = closestName(p.path, seen) ?? (p.flag === '--map userId=' ? suggestColumn('userId', seen, p.path) : undefined);
        const hint = safeSuggestion(near);
        return `${p.flag.trim().replace(/=$/, '')}: no record of the first ${this.scanned} has "${shown(p.path)}". ${seenList}${
          hint !== undefined ? ` Did you mean ${p.flag}${hint}${p.suffix}?` : ' Check the path, or read further ahead with --scan-records.'
        }`;
      });
    if (problems.length > 0)
      throw new BackfillError(
        'MISSING_COLUMN',
        problems.join('\n'),
        `Paths are dotted (profile.email) and step into JSON strings that hold objects. The fields above are those of the first ${this.scanned} records read (--scan-records). Nothing was written.`,
      );
  }
}
