// `--kind users` (issue 19) from a vendor's people export: the preset (presets/users/) reads the
// vendor's record; --map, --attr, --drop-attr and --rename-attr then apply as for generic JSON.
import { Attributes, isDecision, newRecord, putField, userIdOf, type UsersProjection } from '../input/json/user-projection.js';
import { compilePath } from '../input/json/paths.js';
import { jsonText, type JsonObject, type JsonValue } from '../input/json/json-text.js';
import { isRefused, userValueOf } from '../input/json/user-values.js';
import type { UserMappingOptions } from '../input/user-mapping.js';
import { USER_FIELDS, type ProjectedUsers, type RawUserRecord, type RawUserResult, type UserField, type UserValue } from '../model/user-record.js';
import type { UserPreset, VendorUser } from './users/types.js';

type Reader = (r: unknown) => JsonValue | undefined;

/**
 * Records read by a vendor preset (presets/users/): the preset gives the user id, the time, the
 * fields and the attributes under their Leanplum names; --attr <name>[=<new>] keeps only those
 * names, --drop-attr and --rename-attr act on the names (flattened with `_`). --map of a field or
 * of userId/time wins over the preset (a dotted path in the vendor's record).
 */
export class UsersPresetProjection implements UsersProjection {
  private readonly attributes: Attributes;
  private readonly mapped: { target: 'userId' | 'time' | UserField; read: Reader }[];
  private readonly anonymous: Reader | undefined;
  /** the preset's anonymous id, for the hint when --anonymous is not given */
  private readonly anonymousPath: Reader | undefined;

  constructor(
    private readonly preset: UserPreset,
    opts: UserMappingOptions,
  ) {
    this.anonymous = opts.anonymous === undefined ? undefined : compilePath(opts.anonymous);
    this.anonymousPath = preset.anonymousId === undefined ? undefined : compilePath(preset.anonymousId);
    const only = opts.attrs.length === 0 ? undefined : new Map(opts.attrs.map((a) => [a.column, a.name]));
    this.attributes = new Attributes(opts, [], only);
    this.mapped = Object.entries(opts.map).map(([target, path]) => ({ target: target as 'userId' | 'time' | UserField, read: compilePath(path!) }));
  }

  /**
   * One record → its user (or a decision); a record the preset reads as several users (a PostHog
   * person from the API: one per distinct id) → all of them, or the first decision among them for
   * the whole record (a person with one bad distinct id is refused whole, nothing silently lost).
   * --map userId names one id: then the record is one user.
   */
  project(rec: JsonObject): ProjectedUsers {
    if (this.preset.eventExport?.is(rec) === true) return { kind: 'dropped', reason: 'not_profile' };
    const v = this.preset.read(rec);
    if (!Array.isArray(v)) return 'kind' in v ? (v as RawUserResult) : this.one(v as VendorUser, rec);
    const vs = v as readonly VendorUser[];
    if (vs.length === 1 || this.mapped.some((m) => m.target === 'userId')) return this.one(vs[0]!, rec);
    const out: RawUserRecord[] = [];
    for (const u of vs) {
      const r = this.one(u, rec);
      if ('kind' in r) return r;
      out.push(r);
    }
    return out;
  }

  private one(v: VendorUser, rec: JsonObject): RawUserResult {
    let idValue = v.userId;
    let time: JsonValue | undefined = v.time;
    const fields = { ...v.fields };
    for (const m of this.mapped) {
      const x = m.read(rec);
      if (m.target === 'userId') idValue = x;
      else if (m.target === 'time') time = x;
      else if (x !== undefined) fields[m.target] = x;
      else delete fields[m.target];
    }
    const id = userIdOf(idValue, this.anonymous, rec);
    if (isDecision(id)) return id;
    if (id === null || (typeof id === 'string' && id.trim() === '')) {
      const hint = this.anonymousHint(rec);
      if (hint !== undefined) return { kind: 'rejected', reason: 'missing_user_id', message: hint };
    }
    const out = newRecord(id);
    const t = userValueOf(time);
    out.time = isRefused(t) || t === null ? undefined : t;
    for (const f of USER_FIELDS) putField(out, f, fields[f]);
    for (const key in v.attributes) this.attributes.put(out, key, key, v.attributes[key]);
    if (v.version !== undefined) out.version = v.version;
    if (v.attributeTimes !== undefined) {
      const times: Record<string, UserValue> = {};
      for (const k in v.attributeTimes) {
        const name = this.attributes.nameOf(k, k);
        if (name !== undefined) times[name] = v.attributeTimes[k]!;
      }
      out.attributeTimes = times;
    }
    return out;
  }

  /** records read ahead: those the preset reads as people records, and of them those without a user id that have the anonymous id */
  private scanned = { records: 0, anonymousOnly: 0, all: 0, events: 0 };

  /** One of the records read ahead (before any output), for anonymousProblem and eventExportProblem. */
  scan(rec: JsonObject): void {
    this.scanned.all++;
    if (this.preset.eventExport?.is(rec) === true) this.scanned.events++;
    const r = this.project(rec);
    if (!Array.isArray(r) && 'kind' in r && r.kind === 'dropped') return;
    this.scanned.records++;
    if (!Array.isArray(r) && 'kind' in r && r.kind === 'rejected' && r.reason === 'missing_user_id') this.scanned.anonymousOnly++;
  }

  /**
   * Most records read ahead have no user id but the vendor's anonymous id (GA4 keeps signed-out
   * visitors under user_pseudo_id), more than --max-reject-rate allows: the run would end above the
   * rate after writing everything, so it stops before output naming --anonymous (as the events'
   * presets do). Undefined when that is not so.
   */
  anonymousProblem(maxRejectRate: number): string | undefined {
    const { records, anonymousOnly } = this.scanned;
    const path = this.preset.anonymousId;
    if (path === undefined || records === 0 || anonymousOnly * 2 <= records || anonymousOnly / records <= maxRejectRate) return undefined;
    return `userId: ${anonymousOnly} of the first ${records} records have no ${this.preset.sources.userId.split(' (')[0]} but a ${path} (signed-out visitors), more than --max-reject-rate ${maxRejectRate} allows. Did you mean --anonymous ${path}? (they are then imported under it; to leave them out instead, raise --max-reject-rate)`;
  }

  /**
   * Most records read ahead are the vendor's events (its event export, read with --kind users): the
   * run would write nothing useful (PostHog's event properties are no person properties), so it
   * stops before output naming the kinds that read an event export. Undefined when that is not so.
   */
  eventExportProblem(): string | undefined {
    const e = this.preset.eventExport;
    const { all, events } = this.scanned;
    if (e === undefined || all === 0 || events * 2 <= all) return undefined;
    const name = this.preset.name;
    return `--kind users --preset ${name}: ${events} of the first ${all} records are events, not records of the ${e.people}: this looks like the ${e.events}. For its events per user, use --kind totals (one row per user: counts, first/last times, value sums) or --kind events; for user attributes, read the ${e.people} with --kind users --preset ${name}`;
  }

  /**
   * A record without a user id that has the vendor's anonymous id (Segment's anonymousId, GA4's
   * user_pseudo_id, Amplitude's device_id), read without --anonymous: the rejection names the flag
   * that imports it (as the events' presets suggest it).
   */
  private anonymousHint(rec: JsonObject): string | undefined {
    const path = this.preset.anonymousId;
    if (path === undefined || this.anonymous !== undefined || this.mapped.some((m) => m.target === 'userId')) return undefined;
    const anon = this.anonymousPath?.(rec);
    if (anon === undefined || anon === null || anon === '' || typeof anon === 'object') return undefined;
    return `userId is empty; the record has ${path} ${JSON.stringify(jsonText(anon)).slice(0, 80)}: add --anonymous ${path} to import such records under it (--preset ${this.preset.name})`;
  }
}
