import { isJsonObject, type JsonObject } from '../../input/json/json-text.js';
import { objectAt } from '../../input/json/paths.js';
import { utcIfNaive } from '../fields.js';
import type { UserPreset, UserPresetSkip, VendorUser } from './types.js';

/**
 * Amplitude's user-property operations (Identify API), as `$identify` events carry them in
 * `user_properties`: `{"$set": {…}, "$setOnce": {…}, …}`. Only `$set` says what a property is now;
 * the others act on a value this record does not show, and the event after them carries the result
 * in its snapshot.
 */
export const AMPLITUDE_OPERATIONS = ['$set', '$setOnce', '$add', '$append', '$prepend', '$preInsert', '$postInsert', '$remove', '$unset', '$clearAll'] as const;
const OPERATIONS = new Set<string>(AMPLITUDE_OPERATIONS);

/**
 * Amplitude Export API events, read for the user: every event carries the user's properties as
 * they were then (a snapshot), so the latest event of a user holds the latest values.
 */
export const amplitudeUserProperties: UserPreset = {
  name: 'amplitude',
  anonymousId: 'device_id',
  sources: {
    userId: 'user_id (events with only device_id: --anonymous device_id, else rejected as missing_user_id)',
    time: 'event_time (UTC)',
    fields: 'created ← user_creation_time (UTC)',
    attributes:
      "user_properties (a snapshot on every event); in an operations dict ($identify events): the keys of $set; $setOnce, $add, $append, $prepend, $preInsert, $postInsert, $remove, $unset, $clearAll are not applied (the next event's snapshot has their result)",
    dropped: 'events without user properties and without user_creation_time (nothing_to_set)',
    merge: 'per property, the event with the latest event_time wins (equal times: the later line)',
  },
  read(r: JsonObject): VendorUser | UserPresetSkip {
    const up = objectAt(r, 'user_properties') ?? {};
    const attributes: JsonObject = {};
    for (const key in up) if (!OPERATIONS.has(key)) attributes[key] = up[key]!;
    // $set says what the value is now: it wins over a plain key of the same dict
    const set = up['$set'];
    if (isJsonObject(set)) Object.assign(attributes, set);
    const fields: VendorUser['fields'] = {};
    const created = utcIfNaive(r['user_creation_time']);
    if (created !== undefined) fields.created = created;
    return { userId: r['user_id'], time: utcIfNaive(r['event_time']), fields, attributes };
  },
};
