import { jsonText, isJsonObject, type JsonObject, type JsonValue } from '../input/json/json-text.js';
import { childValue } from '../input/json/paths.js';
import { present } from './fields.js';
import type { Preset } from './types.js';

/** The value slots of a GA4 event parameter, in the order they are tried (exactly one is set). */
export const GA4_VALUE_SLOTS = ['string_value', 'int_value', 'double_value', 'float_value'] as const;

/**
 * `event_params` (`[{key, value: {string_value | int_value | float_value | double_value}}]`) as one
 * object: each key with the value of the slot that is set. A parameter with no slot set is left out.
 */
export function ga4Params(list: JsonValue | undefined): JsonObject {
  const out: JsonObject = {};
  if (!Array.isArray(list)) return out;
  for (const p of list) {
    if (!isJsonObject(p) || typeof p['key'] !== 'string') continue;
    const v = p['value'];
    if (!isJsonObject(v)) continue;
    for (const slot of GA4_VALUE_SLOTS) {
      if (v[slot] !== undefined && v[slot] !== null) {
        out[p['key']] = v[slot]!;
        break;
      }
    }
  }
  return out;
}

/** GA4 / Firebase BigQuery export rows (NDJSON from `bq extract`, or Parquet). */
export const ga4: Preset = {
  name: 'ga4',
  hasValue: true,
  anonymousId: 'user_pseudo_id',
  sources: {
    userId: 'user_id',
    event: 'event_name',
    time: 'event_timestamp (microseconds, a number or a string)',
    value: 'the event parameter "value"',
    currencyCode: 'the event parameter "currency" (only with a value)',
    dedupe: '(none: GA4 has no event id; --dedupe compares whole rows)',
    params: 'event_params, each key with the one value slot that is set (string_value, int_value, double_value, float_value)',
    dropped: '(none)',
  },
  read(r: JsonObject) {
    // event_params as an array, or a string holding one (exports through a JSON-string column)
    const params = ga4Params(childValue(r, 'event_params'));
    const value = present(params['value']) ? jsonText(params['value']).trim() : undefined;
    return {
      event: r['event_name'],
      userId: r['user_id'],
      time: present(r['event_timestamp']) ? jsonText(r['event_timestamp']).trim() : undefined,
      value,
      currencyCode: value !== undefined && present(params['currency']) ? jsonText(params['currency']) : undefined,
      params,
    };
  },
};
