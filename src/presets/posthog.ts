import type { JsonObject } from '../json/json-text.js';
import { asObject, flattenObject } from '../json/paths.js';
import { utcIfNaive } from './fields.js';
import type { Preset } from './types.js';

/** PostHog batch exports (JSON Lines; in Parquet `properties` is a JSON string, read the same way). */
export const posthog: Preset = {
  name: 'posthog',
  hasValue: false,
  sources: {
    userId: 'distinct_id',
    event: 'event',
    time: 'timestamp (ISO-8601; without an offset: UTC)',
    value: '(none; --map value=properties.<field>)',
    currencyCode: '(none; --map currencyCode=properties.<field>)',
    dedupe: 'uuid',
    params: 'properties (an object, or a string holding one), except keys starting with $',
    dropped: '(none)',
  },
  read(r: JsonObject) {
    const p = asObject(r['properties']) ?? {};
    const kept: JsonObject = {};
    for (const k of Object.keys(p)) if (!k.startsWith('$')) kept[k] = p[k]!;
    return { event: r['event'], userId: r['distinct_id'], time: utcIfNaive(r['timestamp']), dedupeId: r['uuid'], params: flattenObject(kept) };
  },
};
