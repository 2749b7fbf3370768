import type { JsonObject } from '../input/json/json-text.js';
import { objectAt } from '../input/json/paths.js';

const isSystemKey = (k: string): boolean => k.charCodeAt(0) === 36;
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
    return {
      event: r['event'],
      userId: r['distinct_id'],
      time: utcIfNaive(r['timestamp']),
      dedupeId: r['uuid'],
      params: objectAt(r, 'properties'),
      skipParam: isSystemKey,
    };
  },
};
