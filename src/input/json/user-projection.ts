// `--kind users` (issue 19) from JSON records (NDJSON lines, JSON array elements, Parquet rows)
// without a preset: dotted paths for the user id, the record's time and the known fields; every
// other key an attribute (objects flattened with `_`) unless --attr names the only ones.
import { USER_FIELDS, type RawUserRecord, type RawUserResult, type UserField, type UserValue } from '../../model/user-record.js';
import type { UserMappingOptions } from '../user-mapping.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json-text.js';
import { compilePath } from './paths.js';
import { isRefused, userValueOf } from './user-values.js';

type Reader = (r: unknown) => JsonValue | undefined;

/**
 * JSON records → raw user records. Paths are dotted (`properties.email`), as everywhere; a key
 * that holds dots is found too (paths.ts). Without --attr, the attributes are every key of the
 * record except the paths mapped to the user id, the time and the fields, and except --drop-attr
 * (a path, a top-level key, or an attribute name as flattened); with --attr, only the paths named.
 * --rename-attr <name>=<new> renames an attribute by its flattened name (or its path).
 */
export class UsersJsonProjection {
  private readonly userId: Reader;
  private readonly time: Reader | undefined;
  private readonly fields: { field: UserField; read: Reader }[];
  private readonly attrs: { name: string; read: Reader }[];
  /** dotted paths not carried as attributes (mapped ones and --drop-attr) */
  private readonly skipPaths: Set<string>;
  private readonly renames: Map<string, string>;

  constructor(opts: UserMappingOptions) {
    const m = opts.map;
    this.userId = compilePath(m.userId ?? 'userId');
    this.time = m.time === undefined ? undefined : compilePath(m.time);
    this.fields = USER_FIELDS.map((f) => ({ field: f, read: compilePath(m[f] ?? f) }));
    this.attrs = opts.attrs.map((a) => ({ name: a.name, read: compilePath(a.column) }));
    this.skipPaths = new Set([m.userId ?? 'userId', ...(m.time === undefined ? [] : [m.time]), ...USER_FIELDS.map((f) => m[f] ?? f), ...opts.dropAttrs]);
    this.renames = new Map(opts.renames.map((r) => [r.column, r.name]));
  }

  project(rec: JsonObject): RawUserResult {
    const fields: Partial<Record<UserField, UserValue>> = {};
    const id = userValueOf(this.userId(rec));
    if (Array.isArray(id) || isRefused(id))
      return { kind: 'rejected', reason: 'bad_user_id', message: 'userId is a list or an object: expected a string or a whole number' };
    const out: RawUserRecord = { userId: id, time: undefined, fields, attributes: Object.create(null) as Record<string, UserValue>, refused: [] };
    if (this.time !== undefined) {
      const t = userValueOf(this.time(rec));
      out.time = isRefused(t) ? undefined : t;
    }
    for (const f of this.fields) {
      const v = f.read(rec);
      if (v === undefined) continue;
      if (isJsonObject(v)) {
        out.refused!.push({ name: f.field, problem: 'unsupported_value', value: null });
        continue;
      }
      const u = userValueOf(v);
      if (isRefused(u)) out.refused!.push({ name: f.field, problem: u.problem, value: null });
      else fields[f.field] = u;
    }
    const put = (name: string, path: string, v: JsonValue | undefined) => this.put(out, name, path, v);
    if (this.attrs.length > 0) {
      for (const a of this.attrs) {
        const v = a.read(rec);
        if (v !== undefined) put(a.name, a.name, v);
      }
    } else {
      for (const key in rec) put(key, key, rec[key]);
    }
    return out;
  }

  /** One value under `name` (its dotted source `path`): objects are flattened with `_`. */
  private put(out: RawUserRecord, name: string, path: string, v: JsonValue | undefined): void {
    if (this.skipPaths.has(path) || this.skipPaths.has(name)) return;
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

  private set(out: RawUserRecord, flat: string, path: string, v: JsonValue | undefined): void {
    const name = this.renames.get(flat) ?? this.renames.get(path) ?? flat;
    const u = userValueOf(v);
    if (Object.hasOwn(out.attributes, name) || out.refused!.some((r) => r.name === name)) {
      out.refused!.push({ name, problem: 'duplicate_name', value: isRefused(u) ? null : u });
      return;
    }
    if (isRefused(u)) out.refused!.push({ name, problem: u.problem, value: null });
    else out.attributes[name] = u;
  }
}
