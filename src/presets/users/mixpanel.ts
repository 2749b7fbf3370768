import type { JsonObject } from '../../input/json/json-text.js';
import { objectAt } from '../../input/json/paths.js';
import { firstPresent } from '../fields.js';
import type { UserPreset, UserPresetSkip, VendorUser } from './types.js';
import { renameVendorKeys, timeText } from './values.js';

/** Mixpanel's reserved profile properties carried as attributes under a plain name. */
export const MIXPANEL_PEOPLE_ATTRIBUTES: Readonly<Record<string, string>> = {
  $email: 'email',
  $name: 'name',
  $first_name: 'first_name',
  $last_name: 'last_name',
  $phone: 'phone',
  $avatar: 'avatar',
};

/** Mixpanel's default profile properties that are Leanplum fields. */
export const MIXPANEL_PEOPLE_FIELDS = { $city: 'city', $region: 'region', $country_code: 'country', $timezone: 'timezone' } as const;

/**
 * Left out of the attributes: read as the record's time or `created` ($last_seen, $created,
 * $mp_first_event_time), the id itself, and what is no user attribute: push tokens ($ios_devices,
 * $android_devices: Leanplum keeps devices apart from attributes) and the revenue list
 * ($transactions: a list of objects, which has no form in Leanplum's CSV).
 */
export const MIXPANEL_PEOPLE_SKIPPED = [
  '$distinct_id',
  '$last_seen',
  '$created',
  '$mp_first_event_time',
  '$ios_devices',
  '$android_devices',
  '$transactions',
  ...Object.keys(MIXPANEL_PEOPLE_FIELDS),
] as const;
const SKIPPED = new Set<string>(MIXPANEL_PEOPLE_SKIPPED);

/**
 * Mixpanel people export (Engage API `results[]`, one object per line: `{"$distinct_id",
 * "$properties": {…}}`; a flat profile without `$properties`, as mixpanel-import streams it, is
 * read the same way).
 */
export const mixpanelPeople: UserPreset = {
  name: 'mixpanel',
  sources: {
    userId: '$distinct_id',
    time: '$properties.$last_seen (Mixpanel\'s "Updated at": when a profile property was last set; no offset: --tz)',
    fields:
      'created ← $created, else $mp_first_event_time ("First Seen"); city ← $city, region ← $region, country ← $country_code, timezone ← $timezone; lastActive: none ($last_seen is not activity)',
    attributes: `$properties: email ← $email (and name, first_name, last_name, phone, avatar from their $-names); other $-names without the $ (with it when the profile also has the bare name); the customer's own names as they are`,
    dropped:
      '$ios_devices, $android_devices (push tokens), $transactions (a list of objects); a record without $distinct_id is rejected; event records ({"event", "properties"}: the events export) are not_profile',
    merge: 'one record per profile; the same profile in several exports: per attribute, the later $last_seen wins (without one: the later line)',
  },
  eventExport: {
    events: 'event export',
    people: 'people export',
    // an event of the Export API: {"event", "properties": {...}}; a profile has $distinct_id
    is: (r) => typeof r['event'] === 'string' && objectAt(r, 'properties') !== undefined && !Object.hasOwn(r, '$distinct_id'),
  },
  read(r: JsonObject): VendorUser | UserPresetSkip {
    const nested = objectAt(r, '$properties');
    if (nested === undefined && !Object.hasOwn(r, '$distinct_id') && Array.isArray(r['results']))
      return {
        kind: 'rejected',
        reason: 'missing_user_id',
        message:
          'this is a page of the Engage API ({"page", "results": [...]}), not one profile: write each element of "results" on its own line (NDJSON) and read that',
      };
    const p = nested ?? r;
    const fields: VendorUser['fields'] = {};
    const created = firstPresent(p['$created'], p['$mp_first_event_time']);
    if (created !== undefined) fields.created = created;
    for (const [from, to] of Object.entries(MIXPANEL_PEOPLE_FIELDS)) if (p[from] !== undefined) fields[to] = p[from]!;
    return {
      userId: r['$distinct_id'],
      time: timeText(p['$last_seen']),
      fields,
      attributes: renameVendorKeys(p, MIXPANEL_PEOPLE_ATTRIBUTES, SKIPPED),
    };
  },
};
