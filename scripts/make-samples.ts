// npm run samples — writes the vendor samples in samples/ from the record shapes each vendor
// documents (../shared/VENDOR-EXPORTS.md): a few rows each, with a 19-digit id written as a JSON
// number, a revenue event, a call that is not an event, and a broken line. Deterministic: the same
// bytes every time (gzip without a name or time, zip entries with a fixed date).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import yazl from 'yazl';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
const out = (name: string) => join(root, 'samples', name);
const lines = (...ls: string[]) => ls.join('\n') + '\n';

// Mixpanel Raw Event Export API: NDJSON, properties.time in seconds (13 digits: ms).
const mixpanel = lines(
  '{"event":"Sign Up","properties":{"time":1790845200,"distinct_id":"u-100","$insert_id":"mp-1","$os":"iOS","mp_lib":"swift","token":"abc123","plan":"pro","referrer":{"source":"ads","campaign":"autumn"}}}',
  '{"event":"Purchase","properties":{"time":1790845800,"distinct_id":"$device:5f2c","$user_id":"u-100","$insert_id":"mp-2","price":9.99,"currency":"EUR","items":["sword","shield"]}}',
  '{"event":"Level Up","properties":{"time":1790965800123,"distinct_id":1234567890123456789,"$insert_id":"mp-3","level":7}}',
  '{"event":"Purchase","properties":{"time":1790845800,"distinct_id":"$device:5f2c","$user_id":"u-100","$insert_id":"mp-2","price":9.99,"currency":"EUR","items":["sword","shield"]}}',
  '{"event":"Purchase","properties":{"time":1790965800,"distinct_id":"u-300",',
  '{"event":"Tutorial Done","properties":{"time":1709625600,"distinct_id":"u-200","$insert_id":"mp-6","step":"3"}}',
);

// Amplitude Export API: a zip of gzipped NDJSON files (projectID_date_hour#partition.json.gz).
const amplitudeHour9 = lines(
  '{"event_type":"[Amplitude] Start Session","user_id":"amp-1","device_id":"dev-1","event_time":"2026-10-01 09:00:00.000000","uuid":"uuid-1","event_properties":{}}',
  '{"event_type":"Add To Cart","user_id":"amp-1","device_id":"dev-1","event_time":"2026-10-01 09:00:05.123456","$insert_id":"ins-2","uuid":"uuid-2","event_properties":{"sku":"SKU-1","cart":{"size":2}},"user_creation_time":"2026-09-30 18:00:00.000000","user_properties":{"plan":"free","favorite_genre":"puzzle","cohorts":["beta","eu"]}}',
  '{"event_type":"Purchase","user_id":"amp-1","device_id":"dev-1","event_time":"2026-10-01T09:10:00.000000","$insert_id":"ins-3","uuid":"uuid-3","event_properties":{"$price":9.99,"$quantity":3,"$currency":"usd","sku":"SKU-1"},"user_creation_time":"2026-09-30 18:00:00.000000","user_properties":{"plan":"free","favorite_genre":"strategy","cohorts":["beta","eu"]}}',
  '{"event_type":"$identify","user_id":"amp-1","device_id":"dev-1","event_time":"2026-10-01 09:10:01.000000","uuid":"uuid-4","user_properties":{"$set":{"plan":"pro"},"$setOnce":{"first_plan":"free"},"$add":{"purchases":1}}}',
);
const amplitudeHour18 = lines(
  '{"event_type":"Level Up","user_id":1234567890123456789,"device_id":"dev-5","event_time":"2026-10-02 18:30:00.000000","uuid":"uuid-5","event_properties":{"level":7},"user_properties":{"level":7,"guild":{"name":"Owls","rank":2}}}',
  '{"event_type":"Level Up","user_id":',
  '{"event_type":"Open App","user_id":null,"device_id":"dev-9","event_time":"2026-10-02 18:31:00.000000","uuid":"uuid-7","event_properties":{},"user_properties":{"push_opt_in":false}}',
  '{"event_type":"Purchase","user_id":"amp-2","device_id":"dev-2","event_time":"2026-10-02 18:32:00.000000","uuid":"uuid-8","event_properties":{"$revenue":"4.5","$price":1,"$quantity":2,"$currency":"EUR"},"user_properties":{}}',
);

// Segment raw archive: gzipped NDJSON, every call type mixed.
const segment = lines(
  '{"type":"identify","userId":"seg-1","anonymousId":"anon-1","messageId":"m1","timestamp":"2026-10-01T08:59:00.000Z","traits":{"plan":"pro"}}',
  '{"type":"track","event":"Order Completed","userId":"seg-1","anonymousId":"anon-1","messageId":"m2","timestamp":"2026-10-01T09:00:00.000Z","properties":{"revenue":25.5,"order_id":"o-1","products":[{"sku":"A"}]},"context":{"ip":"203.0.113.7"}}',
  '{"type":"page","name":"Home","userId":"seg-1","messageId":"m3","timestamp":"2026-10-01T09:01:00.000Z","properties":{"path":"/"}}',
  '{"type":"track","event":"Video Played","userId":1234567890123456789,"messageId":"m4","timestamp":"2026-10-02T18:30:00.000Z","properties":{"title":"Intro, part 1","value":3}}',
  '{"type":"track","event":"Order Completed","userId":"seg-1","anonymousId":"anon-1","messageId":"m2","timestamp":"2026-10-01T09:00:00.000Z","properties":{"revenue":25.5,"order_id":"o-1","products":[{"sku":"A"}]},"context":{"ip":"203.0.113.7"}}',
  '{"type":"track","event":',
  '{"type":"track","event":"Signed Up","anonymousId":"anon-7","messageId":"m7","timestamp":"2026-10-03T07:15:30Z","properties":{"total":"12.00","currency":"eur"}}',
);

// GA4 / Firebase BigQuery export (bq extract, NEWLINE_DELIMITED_JSON: INT64 as strings, but not always).
const ga4Rows = [
  {
    event_date: '20261001',
    event_timestamp: '1790845200123456',
    event_name: 'session_start',
    user_id: null,
    user_pseudo_id: '1712345.678',
    user_first_touch_timestamp: '1790841600000000',
    user_properties: [
      {
        key: 'first_open_time',
        value: { string_value: null, int_value: '1790841600000', float_value: null, double_value: null, set_timestamp_micros: '1790841601000000' },
      },
      { key: 'signed_in', value: { string_value: 'no', int_value: null, float_value: null, double_value: null, set_timestamp_micros: '1790841601000000' } },
    ],
    event_params: [
      { key: 'ga_session_id', value: { string_value: null, int_value: '1790845200', float_value: null, double_value: null } },
      { key: 'page_title', value: { string_value: 'Home', int_value: null, float_value: null, double_value: null } },
    ],
  },
  {
    event_date: '20261001',
    event_timestamp: '1790845800000000',
    event_name: 'purchase',
    user_id: 'ga-1',
    user_pseudo_id: '1712345.678',
    user_first_touch_timestamp: '1790841600000000',
    user_properties: [
      {
        key: 'first_open_time',
        value: { string_value: null, int_value: '1790841600000', float_value: null, double_value: null, set_timestamp_micros: '1790841601000000' },
      },
      { key: 'signed_in', value: { string_value: 'yes', int_value: null, float_value: null, double_value: null, set_timestamp_micros: '1790845700000000' } },
      {
        key: 'lifetime_spend',
        value: { string_value: null, int_value: null, float_value: null, double_value: 19.99, set_timestamp_micros: '1790845800000000' },
      },
    ],
    event_params: [
      { key: 'value', value: { string_value: null, int_value: null, float_value: null, double_value: 19.99 } },
      { key: 'currency', value: { string_value: 'USD', int_value: null, float_value: null, double_value: null } },
      { key: 'transaction_id', value: { string_value: 'T-1', int_value: null, float_value: null, double_value: null } },
      { key: 'items_count', value: { string_value: null, int_value: '3', float_value: null, double_value: null } },
      { key: 'unset', value: { string_value: null, int_value: null, float_value: null, double_value: null } },
    ],
  },
];
const ga4 =
  ga4Rows.map((r) => JSON.stringify(r)).join('\n') +
  '\n{"event_date":"20261002","event_timestamp":1790965800000000,"event_name":"level_up","user_id":1234567890123456789,"user_pseudo_id":"99.1","user_first_touch_timestamp":1790960000000000,"user_properties":[{"key":"high_score","value":{"string_value":null,"int_value":"9007199254740993","float_value":null,"double_value":null,"set_timestamp_micros":"1790965800000000"}}],"event_params":[{"key":"score","value":{"string_value":null,"int_value":9007199254740993,"float_value":null,"double_value":null}}]}' +
  '\n{"event_date":"20261002","event_timestamp":"1790965900000000","event_name":\n';

// The same rows as a BigQuery Parquet export (event_params a LIST of STRUCT, INT64 columns).
function ga4Parquet(): ArrayBuffer {
  const slot = (s: string | null, i: bigint | null, d: number | null) => ({ string_value: s, int_value: i, float_value: null, double_value: d });
  const schema = [
    { name: 'root', num_children: 5 },
    { name: 'event_timestamp', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'event_name', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'user_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'user_pseudo_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'event_params', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
    { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'value', repetition_type: 'OPTIONAL', num_children: 4 },
    { name: 'string_value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'int_value', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'float_value', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'double_value', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  ] as const;
  return parquetWriteBuffer({
    schema: schema as never,
    rowGroupSize: 2, // two row groups, so the test crosses a boundary
    columnData: [
      { name: 'event_timestamp', data: [1790845200123456n, 1790845800000000n, 1790965800000000n] },
      { name: 'event_name', data: ['session_start', 'purchase', 'level_up'] },
      { name: 'user_id', data: [null, 'ga-1', '1234567890123456789'] },
      { name: 'user_pseudo_id', data: ['1712345.678', '1712345.678', '99.1'] },
      {
        name: 'event_params',
        data: [
          [
            { key: 'ga_session_id', value: slot(null, 1790845200n, null) },
            { key: 'page_title', value: slot('Home', null, null) },
          ],
          [
            { key: 'value', value: slot(null, null, 19.99) },
            { key: 'currency', value: slot('USD', null, null) },
            { key: 'transaction_id', value: slot('T-1', null, null) },
            { key: 'items_count', value: slot(null, 3n, null) },
            { key: 'unset', value: slot(null, null, null) },
          ],
          [{ key: 'score', value: slot(null, 9007199254740993n, null) }],
        ],
      },
    ],
  });
}

// PostHog batch export, JSON Lines.
const posthog = lines(
  '{"uuid":"0190a1b2-0001","event":"$pageview","distinct_id":"ph-1","timestamp":"2026-10-01T09:00:00.000000+00:00","properties":{"$current_url":"https://example.com/","$browser":"Firefox","plan":"pro"}}',
  '{"uuid":"0190a1b2-0002","event":"checkout","distinct_id":"ph-1","timestamp":"2026-10-01 09:10:00.000000","properties":{"$lib":"web","amount":"19.90","currency":"EUR","cart":{"items":3}}}',
  '{"uuid":"0190a1b2-0003","event":"level up","distinct_id":1234567890123456789,"timestamp":"2026-10-02T18:30:00Z","properties":"{\\"level\\":7,\\"$set\\":{\\"x\\":1}}"}',
  '{"uuid":"0190a1b2-0004","event":"broken",',
  '{"uuid":"0190a1b2-0002","event":"checkout","distinct_id":"ph-1","timestamp":"2026-10-01 09:10:00.000000","properties":{"$lib":"web","amount":"19.90","currency":"EUR","cart":{"items":3}}}',
);

// --kind users samples (../shared/VENDOR-PROFILES.md): one people export per preset; Amplitude and
// GA4 read the user properties of the event samples above.

// Mixpanel people export: Engage API results, one profile per line ($distinct_id, $properties).
const mixpanelPeople = lines(
  '{"$distinct_id":4,"$properties":{"$created":"2008-12-12T11:20:47","$email":"example@mixpanel.com","$first_name":"Example","$last_name":"Name","$last_seen":"2008-06-09T23:08:40"}}',
  '{"$distinct_id":"13b20239a29335","$properties":{"$country_code":"NL","$campaigns":[1875892,1714688],"$browser_version":9,"$timezone":"Europe/Amsterdam","$city":"Amsterdam","$region":"North Holland","$created":"2017-05-03T12:10:11","$last_seen":"2017-05-03T12:10:12","plan":"pro"}}',
  '{"$distinct_id":1234567890123456789,"$properties":{"$email":"long.id@example.com","$last_seen":"2026-09-01T10:00:00","plan":"free","vip":false,"credits":12.5,"prefs":{"theme":"dark","lang":"de"}}}',
  '{"$distinct_id":"u-300","$properties":{"$phone":"+15555550100","$ios_devices":["a1b2c3"],"$transactions":[{"$time":"2026-08-01T00:00:00","$amount":9.99}],"nickname":"","coupon":null,"$last_seen":"2026-09-02T08:00:00"}}',
  '{"$distinct_id":1234567890123456789,"$properties":{"$email":"long.id@example.com","$last_seen":"2026-09-15T10:00:00","plan":"pro","credits":40}}',
  '{"$distinct_id":"u-400","$properties":{"$email":',
  '{"$properties":{"$email":"nobody@example.com","plan":"free"}}',
);

// Segment raw archive, plain NDJSON: identify calls (partial traits) mixed with other calls.
const segmentIdentify = lines(
  '{"type":"identify","userId":"seg-1","anonymousId":"anon-1","messageId":"i1","timestamp":"2026-10-01T09:00:00.000Z","traits":{"plan":"free","email":"seg1@example.com","address":{"city":"Oslo","country":"NO"},"createdAt":"2026-09-30T12:00:00Z"}}',
  '{"type":"track","event":"Order Completed","userId":"seg-1","messageId":"t1","timestamp":"2026-10-01T09:05:00.000Z","properties":{"revenue":25.5}}',
  '{"type":"identify","userId":"seg-1","messageId":"i2","timestamp":"2026-10-01T08:00:00.000Z","traits":{"plan":"trial","name":"Ada Lovelace"}}',
  '{"type":"identify","userId":null,"anonymousId":"anon-7","messageId":"i3","timestamp":"2026-10-01T10:00:00.000Z","traits":{"plan":"free","tags":["new","mobile"]}}',
  '{"type":"page","name":"Home","userId":"seg-1","messageId":"p1","timestamp":"2026-10-01T09:06:00.000Z","properties":{"path":"/"}}',
  '{"type":"identify","userId":1234567890123456789,"messageId":"i4","timestamp":"2026-10-02T18:30:00Z","traits":{"company":{"name":"Acme","employees":50},"age":41}}',
  '{"type":"identify","userId":"seg-1","messageId":"i5","timestamp":"2026-10-02T07:00:00.000Z","traits":{"plan":"pro"}}',
  '{"type":"identify","userId":"seg-2",',
);

// PostHog persons batch export, JSON Lines: one row per (person, distinct id).
const posthogPersons = lines(
  '{"team_id":1,"distinct_id":"ph-1","person_id":"0190a1b2-p001","properties":{"email":"ph1@example.com","plan":"pro","$geoip_city_name":"Berlin","$geoip_country_code":"DE","$geoip_subdivision_1_name":"Land Berlin","$geoip_time_zone":"Europe/Berlin","$initial_browser":"Firefox"},"person_distinct_id_version":0,"person_version":3,"created_at":"2026-09-01T10:00:00Z","_inserted_at":"2026-10-01T00:00:00Z","is_deleted":false}',
  '{"team_id":1,"distinct_id":"0190a1b2-anon-1","person_id":"0190a1b2-p001","properties":{"email":"ph1@example.com","plan":"pro","$geoip_city_name":"Berlin","$geoip_country_code":"DE","$geoip_subdivision_1_name":"Land Berlin","$geoip_time_zone":"Europe/Berlin","$initial_browser":"Firefox"},"person_distinct_id_version":0,"person_version":3,"created_at":"2026-09-01T10:00:00Z","_inserted_at":"2026-10-01T00:00:00Z","is_deleted":false}',
  '{"team_id":1,"distinct_id":"ph-1","person_id":"0190a1b2-p001","properties":{"email":"ph1@example.com","plan":"free","seats":1},"person_distinct_id_version":0,"person_version":2,"created_at":"2026-09-01T10:00:00Z","_inserted_at":"2026-09-20T00:00:00Z","is_deleted":false}',
  '{"team_id":1,"distinct_id":"ph-gone","person_id":"0190a1b2-p002","properties":{"email":"gone@example.com"},"person_distinct_id_version":1,"person_version":5,"created_at":"2026-08-01T00:00:00Z","_inserted_at":"2026-10-01T00:00:00Z","is_deleted":true}',
  '{"team_id":1,"distinct_id":"ph-3","person_id":"0190a1b2-p003","properties":"{\\"email\\":\\"ph3@example.com\\",\\"beta\\":true,\\"score\\":12345678901234567890}","person_distinct_id_version":0,"person_version":1,"created_at":1788220800,"_inserted_at":"2026-10-01T00:00:00Z","is_deleted":false}',
  '{"team_id":1,"distinct_id":"ph-4",',
);

function zip(entries: [string, Buffer][]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  const mtime = new Date(Date.UTC(2026, 9, 3, 0, 0, 0));
  for (const [name, data] of entries) z.addBuffer(data, name, { mtime, compress: false });
  z.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => parts.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    z.outputStream.on('error', reject);
  });
}

await writeFile(out('mixpanel-export.ndjson'), mixpanel);
await writeFile(
  out('amplitude-export.zip'),
  await zip([
    // written out of order: the reader sorts entries by name
    ['187520/187520_2026-10-02_18#0.json.gz', gzipSync(amplitudeHour18)],
    ['187520/187520_2026-10-01_9#0.json.gz', gzipSync(amplitudeHour9)],
    ['README.txt', Buffer.from('Amplitude export sample for lp-backfill\n')],
  ]),
);
await writeFile(out('segment-archive.ndjson.gz'), gzipSync(segment));
await writeFile(out('ga4-export.ndjson'), ga4);
await writeFile(out('ga4-export.parquet'), Buffer.from(ga4Parquet()));
await writeFile(out('posthog-export.jsonl'), posthog);
await writeFile(out('mixpanel-people.ndjson'), mixpanelPeople);
await writeFile(out('segment-identify.ndjson'), segmentIdentify);
await writeFile(out('posthog-persons.jsonl'), posthogPersons);
console.log(
  'samples written: mixpanel-export.ndjson, amplitude-export.zip, segment-archive.ndjson.gz, ga4-export.ndjson, ga4-export.parquet, posthog-export.jsonl, mixpanel-people.ndjson, segment-identify.ndjson, posthog-persons.jsonl',
);
