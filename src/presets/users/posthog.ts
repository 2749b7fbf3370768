import type { JsonObject } from '../../input/json/json-text.js';
import { objectAt } from '../../input/json/paths.js';
import { utcIfNaive } from '../fields.js';
import type { UserPreset, UserPresetSkip, VendorUser } from './types.js';
import { isTrueFlag, renameVendorKeys, versionNumber } from './values.js';

/**
 * Person properties PostHog's GeoIP sets that are Leanplum fields (PostHog's GeoIP plugin names;
 * not in the export's documentation itself, so inferred: U).
 */
export const POSTHOG_PERSON_FIELDS = {
  $geoip_city_name: 'city',
  $geoip_subdivision_1_name: 'region',
  $geoip_country_code: 'country',
  $geoip_time_zone: 'timezone',
} as const;
/** PostHog's bookkeeping, no user attribute: the id of the event that created the person. */
export const POSTHOG_PERSON_SKIPPED = ['$creator_event_uuid'] as const;
const SKIPPED = new Set<string>([...Object.keys(POSTHOG_PERSON_FIELDS), ...POSTHOG_PERSON_SKIPPED]);

/**
 * PostHog persons batch export (JSON Lines or Parquet): one row per (person, distinct id), so a
 * person with three distinct ids is three rows, each a Leanplum user with the person's properties.
 * A person from PostHog's persons API (`{"id", "uuid", "distinct_ids": [...], "properties",
 * "created_at"}`, one per line) is read the same way: one Leanplum user per distinct id.
 */
export const posthogPersons: UserPreset = {
  name: 'posthog',
  sources: {
    userId: "distinct_id; a person from the persons API: each of distinct_ids (one user per distinct id, all with the person's values)",
    time: '(none: rows are ordered by person_version, then person_distinct_id_version; a person from the API has neither: the later line wins)',
    fields:
      'created ← created_at (ISO-8601, no offset: UTC; or epoch seconds); city ← properties.$geoip_city_name, region ← $geoip_subdivision_1_name, country ← $geoip_country_code, timezone ← $geoip_time_zone',
    attributes:
      'properties (an object, or a string holding one): own names as they are, other $-names without the $ (with it when the person also has the bare name)',
    dropped:
      'rows with is_deleted true (deleted); a person from the API: id, uuid, name, is_identified, last_seen_at are not read; event records (uuid/timestamp and event: the events export, not_profile); properties.$creator_event_uuid (an event id); team_id, person_id, _inserted_at are not read',
    merge:
      'the same distinct id in several rows (repeated or overlapping exports): per property, the row with the higher person_version wins, then the higher person_distinct_id_version, then the later line',
  },
  eventExport: {
    events: 'events export',
    people: 'persons export',
    // an events export row has the event's name and its uuid or timestamp; a person row has none of them
    is: (r) => typeof r['event'] === 'string' && (r['uuid'] !== undefined || r['timestamp'] !== undefined) && r['person_version'] === undefined,
  },
  read(r: JsonObject): VendorUser | readonly VendorUser[] | UserPresetSkip {
    if (isTrueFlag(r['is_deleted'])) return { kind: 'dropped', reason: 'deleted' };
    const props = objectAt(r, 'properties') ?? {};
    const fields: VendorUser['fields'] = {};
    const created = utcIfNaive(r['created_at']);
    if (created !== undefined) fields.created = created;
    for (const [from, to] of Object.entries(POSTHOG_PERSON_FIELDS)) if (props[from] !== undefined) fields[to] = props[from]!;
    const attributes = renameVendorKeys(props, {}, SKIPPED);
    const ids = r['distinct_ids'];
    if (r['distinct_id'] === undefined && Array.isArray(ids)) {
      // the persons API: one person, all its distinct ids (no version: the later line wins); none: no user id
      if (ids.length === 0) return { userId: undefined, time: undefined, fields, attributes };
      return ids.map((id) => ({ userId: id, time: undefined, fields, attributes }));
    }
    const version = [versionNumber(r['person_version']), versionNumber(r['person_distinct_id_version'])];
    return { userId: r['distinct_id'], time: undefined, version, fields, attributes };
  },
};
