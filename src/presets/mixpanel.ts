import { jsonText, type JsonObject } from '../input/json/json-text.js';
import { objectAt } from '../input/json/paths.js';
import { firstPresent } from './fields.js';
import type { Preset } from './types.js';

/**
 * Properties Mixpanel itself sets, left out of params: every key starting with `$` or `mp_` (the
 * prefixes Mixpanel reserves for its own and its SDKs' properties: reserved-properties and
 * default-properties docs), and these unprefixed reserved ones.
 */
export const MIXPANEL_RESERVED = ['time', 'distinct_id', 'token', 'bucket', 'ip', 'alias'] as const;
const RESERVED = new Set<string>(MIXPANEL_RESERVED);
export const isMixpanelSystemKey = (k: string): boolean => k.charCodeAt(0) === 36 || k.startsWith('mp_') || RESERVED.has(k);

/** Mixpanel Raw Event Export API: NDJSON `{"event", "properties": {"time", "distinct_id", "$insert_id", …}}`. */
export const mixpanel: Preset = {
  name: 'mixpanel',
  hasValue: false,
  sources: {
    userId: 'properties.$user_id, else properties.distinct_id',
    event: 'event',
    time: 'properties.time (epoch seconds; 13 digits: ms); --source-tz for projects created before 2023',
    value: '(none; --map value=properties.<field>)',
    currencyCode: '(none; --map currencyCode=properties.<field>)',
    dedupe: 'properties.$insert_id',
    params: `properties, except keys starting with $ or mp_ and ${MIXPANEL_RESERVED.join(', ')}`,
    dropped: '(none)',
  },
  read(r: JsonObject) {
    const p = objectAt(r, 'properties') ?? {};
    return {
      event: r['event'],
      userId: firstPresent(p['$user_id'], p['distinct_id']),
      time: jsonText(p['time']),
      dedupeId: p['$insert_id'],
      params: p,
      skipParam: isMixpanelSystemKey,
    };
  },
};
