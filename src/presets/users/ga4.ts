import { isJsonObject, type JsonObject, type JsonValue } from '../../input/json/json-text.js';
import { childValue, objectAt } from '../../input/json/paths.js';
import { firstPresent } from '../fields.js';
import type { UserPreset, UserPresetSkip, VendorUser } from './types.js';
import { float64Value, int64Value, microsToMillis, timeText } from './values.js';

/**
 * A user property's value: the one slot that is set, in the order string, int, double, float; an
 * INT64 (BigQuery writes it as a JSON string) as a number, or a bigint when a double would lose
 * digits. null when no slot is set.
 */
export function ga4PropertyValue(v: JsonObject): JsonValue {
  if (v['string_value'] !== undefined && v['string_value'] !== null) return v['string_value'];
  if (v['int_value'] !== undefined && v['int_value'] !== null) return int64Value(v['int_value']);
  for (const slot of ['double_value', 'float_value'] as const) if (v[slot] !== undefined && v[slot] !== null) return float64Value(v[slot]);
  return null;
}

/**
 * GA4 / Firebase BigQuery export, read for the user: every event row repeats the user properties
 * (`user_properties: [{key, value: {string_value | int_value | double_value | float_value,
 * set_timestamp_micros}}]`), each with the time it was last set. The user-data export
 * (`users_YYYYMMDD`: `user_id`, `user_info.*`, the same `user_properties`) is read too.
 */
export const ga4UserProperties: UserPreset = {
  name: 'ga4',
  anonymousId: 'user_pseudo_id',
  sources: {
    userId: 'user_id (rows with only user_pseudo_id: --anonymous user_pseudo_id, else rejected as missing_user_id)',
    time: 'event_timestamp (µs); user-data export: user_info.last_active_timestamp_micros; each property: its own value.set_timestamp_micros',
    fields:
      'created ← user_first_touch_timestamp (µs), user-data export: user_info.user_first_touch_timestamp_micros; lastActive ← user_info.last_active_timestamp_micros (user-data export only)',
    attributes:
      'user_properties, each key with the one value slot that is set (string_value, int_value, double_value, float_value); INT64 exact (a number, or its digits when a double would round them)',
    dropped: 'rows without user properties and without a first-touch time (nothing_to_set); a property with no slot set is an empty value',
    merge: "per property, the latest set_timestamp_micros wins (without one: the row's time; equal times: the later row)",
  },
  read(r: JsonObject): VendorUser | UserPresetSkip {
    const info = objectAt(r, 'user_info');
    const attributes: JsonObject = {};
    const attributeTimes: Record<string, number> = {};
    const list = childValue(r, 'user_properties');
    if (Array.isArray(list)) {
      for (const p of list) {
        if (!isJsonObject(p) || typeof p['key'] !== 'string') continue;
        const v = isJsonObject(p['value']) ? p['value'] : {};
        attributes[p['key']] = ga4PropertyValue(v);
        const at = microsToMillis(v['set_timestamp_micros']);
        if (at !== undefined) attributeTimes[p['key']] = at;
        else delete attributeTimes[p['key']];
      }
    }
    const fields: VendorUser['fields'] = {};
    const created = timeText(firstPresent(r['user_first_touch_timestamp'], info?.['user_first_touch_timestamp_micros']));
    if (created !== undefined) fields.created = created;
    const lastActive = timeText(info?.['last_active_timestamp_micros']);
    if (lastActive !== undefined) fields.lastActive = lastActive;
    return {
      userId: r['user_id'],
      time: timeText(firstPresent(r['event_timestamp'], info?.['last_active_timestamp_micros'])),
      fields,
      attributes,
      attributeTimes,
    };
  },
};
