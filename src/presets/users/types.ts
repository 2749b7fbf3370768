import type { JsonObject, JsonValue } from '../../input/json/json-text.js';
import type { UserDropReason, UserField, UserRejectReason } from '../../model/user-record.js';

/**
 * One vendor record read as a user's values, before any rule: values as the source has them (the
 * users rule step then parses the times with --tz, flattens objects with `_`, checks the names and
 * leaves empty values out). The users counterpart of VendorEvent.
 */
export interface VendorUser {
  userId: JsonValue | undefined;
  /** when the record's values were true, as text the time parser reads (ISO, with Z where the vendor documents UTC; an epoch) */
  time: string | undefined;
  /**
   * The vendor's own order among one user's records where it has no time (PostHog
   * `person_version`, then `person_distinct_id_version`): compared element by element, the higher
   * one wins (UserRecord.version).
   */
  version?: readonly number[] | undefined;
  /** created/lastActive as time text; locale, country, region, city, timezone as read */
  fields: Partial<Record<UserField, JsonValue>>;
  /** attribute name → value (objects are flattened with `_` by the rule step) */
  attributes: JsonObject;
  /**
   * attribute name → when that value alone was set, epoch milliseconds (GA4 `set_timestamp_micros`
   * ÷ 1000, exact integer arithmetic): for that attribute it takes the place of the record's time
   * (UserRecord.attributeTimes)
   */
  attributeTimes?: Record<string, number> | undefined;
}

/** A record the preset leaves out on purpose, or refuses with a message naming the fix. */
export type UserPresetSkip = { kind: 'dropped'; reason: UserDropReason } | { kind: 'rejected'; reason: UserRejectReason; message: string };

/**
 * A vendor's people export (or an event export read for its user properties): a named, pure
 * mapping from one record to one user's values. `sources` says, for the docs and the summary,
 * where each Leanplum field and the attributes come from, what is dropped and how several records
 * of one user are merged.
 */
export interface UserPreset {
  name: string;
  sources: Readonly<Record<'userId' | 'time' | 'fields' | 'attributes' | 'dropped' | 'merge', string>>;
  /** the vendor's id for a visitor who is not signed in, suggested as --anonymous (Segment `anonymousId`) */
  anonymousId?: string | undefined;
  /**
   * Where the vendor's event export is another file than its people export (Mixpanel, PostHog):
   * the names of both and a test that tells an event record apart. Such a record is dropped as
   * `not_profile` (its event properties are no user attributes); when most records read ahead are
   * events, the transform stops before output (exit 2) naming --kind totals and --kind events.
   */
  eventExport?: { events: string; people: string; is(record: JsonObject): boolean } | undefined;
  /** one record → one user, or several (a PostHog person from the API: one per distinct id) */
  read(record: JsonObject): VendorUser | readonly VendorUser[] | UserPresetSkip;
}
