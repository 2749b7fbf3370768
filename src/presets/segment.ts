import { jsonText, type JsonObject } from '../input/json/json-text.js';
import { objectAt } from '../input/json/paths.js';
import { present, utcIfNaive } from './fields.js';
import type { Preset } from './types.js';

/** Segment raw archive (S3/GCS): gzipped NDJSON with every call type mixed; only track calls are events. */
export const segment: Preset = {
  name: 'segment',
  hasValue: true,
  anonymousId: 'anonymousId',
  sources: {
    userId: 'userId',
    event: 'event',
    time: 'timestamp (ISO-8601)',
    value: 'properties.revenue, else properties.value, else properties.total',
    currencyCode: "properties.currency; USD when the value is properties.revenue and no currency is given (Segment's spec)",
    dedupe: 'messageId',
    params: 'properties',
    dropped: 'every call whose type is not "track": identify, page, screen, group, alias (not_track)',
  },
  read(r: JsonObject) {
    if (r['type'] !== 'track') return 'not_track';
    const p = objectAt(r, 'properties') ?? {};
    const from = ['revenue', 'value', 'total'].find((k) => present(p[k]));
    const value = from === undefined ? undefined : jsonText(p[from]).trim();
    const currencyCode = value === undefined ? undefined : present(p['currency']) ? jsonText(p['currency']) : from === 'revenue' ? 'USD' : undefined;
    return {
      event: r['event'],
      userId: r['userId'],
      time: utcIfNaive(r['timestamp']),
      value,
      currencyCode,
      dedupeId: r['messageId'],
      params: p,
    };
  },
};
