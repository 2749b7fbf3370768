import { jsonText, type JsonObject } from '../input/json/json-text.js';
import { objectAt } from '../input/json/paths.js';
import { decimalProduct, firstPresent, present, utcIfNaive } from './fields.js';
import type { Preset } from './types.js';

/** Events Amplitude makes itself (not the app's): dropped as not_track. */
export const AMPLITUDE_SYNTHETIC = ['[Amplitude] …', '$identify', '$groupidentify'] as const;
export const isAmplitudeSynthetic = (e: string) => e.startsWith('[Amplitude]') || e === '$identify' || e === '$groupidentify';

/** Amplitude Export API: a zip of gzipped NDJSON files, one event per line. */
export const amplitude: Preset = {
  name: 'amplitude',
  hasValue: true,
  anonymousId: 'device_id',
  sources: {
    userId: 'user_id',
    event: 'event_type',
    time: 'event_time ("YYYY-MM-DD HH:MM:SS.ffffff" or with T, UTC)',
    value: 'event_properties.$revenue, else event_properties.$price × $quantity ($quantity absent: 1)',
    currencyCode: 'event_properties.$currency (only with a value)',
    dedupe: '$insert_id, else uuid',
    params: 'event_properties',
    dropped: `${AMPLITUDE_SYNTHETIC.join(', ')} (not_track)`,
  },
  read(r: JsonObject) {
    const event = r['event_type'];
    if (typeof event === 'string' && isAmplitudeSynthetic(event)) return 'not_track';
    const ep = objectAt(r, 'event_properties') ?? {};
    let value: string | undefined;
    if (present(ep['$revenue'])) value = jsonText(ep['$revenue']).trim();
    else if (present(ep['$price'])) {
      const price = jsonText(ep['$price']);
      const quantity = present(ep['$quantity']) ? jsonText(ep['$quantity']) : '1';
      // not plain decimals: the row step rejects the price as it stands (bad_value)
      value = decimalProduct(price, quantity) ?? price;
    }
    return {
      event,
      userId: r['user_id'],
      time: utcIfNaive(r['event_time']),
      value,
      currencyCode: value !== undefined && present(ep['$currency']) ? jsonText(ep['$currency']) : undefined,
      dedupeId: firstPresent(r['$insert_id'], r['uuid']),
      params: ep,
    };
  },
};
