// Issue 19, users presets: each vendor's people record (the real shapes quoted in
// ../shared/VENDOR-PROFILES.md) read as one user's values, with hand-written expected results.
import { describe, expect, it } from 'vitest';
import { parseJson, type JsonObject } from '../../src/input/json/json-text.js';
import { USER_PRESETS } from '../../src/presets/users/index.js';
import { ga4PropertyValue } from '../../src/presets/users/ga4.js';
import { UsersPresetProjection } from '../../src/presets/user-projection.js';
import { int64Value, microsToMillis, renameVendorKeys } from '../../src/presets/users/values.js';

const rec = (text: string): JsonObject => {
  const p = parseJson(text);
  if (!p.ok) throw new Error(p.message);
  return p.value as JsonObject;
};
const read = (preset: string, text: string) => USER_PRESETS[preset]!.read(rec(text));

describe('mixpanel people export', () => {
  it("the Engage API's documented sample: $email → email, $created → created, $last_seen is the record's time (not lastActive)", () => {
    expect(
      read(
        'mixpanel',
        '{"$distinct_id": 4, "$properties": {"$created": "2008-12-12T11:20:47", "$email": "example@mixpanel.com", "$first_name": "Example", "$last_name": "Name", "$last_seen": "2008-06-09T23:08:40"}}',
      ),
    ).toEqual({
      userId: 4,
      time: '2008-06-09T23:08:40',
      fields: { created: '2008-12-12T11:20:47' },
      attributes: { email: 'example@mixpanel.com', first_name: 'Example', last_name: 'Name' },
    });
  });

  it('the 2017 record: $city/$region/$country_code/$timezone are fields; other $-names lose the $; lists stay lists', () => {
    expect(
      read(
        'mixpanel',
        '{"$distinct_id":"13b20239a29335","$properties":{"$country_code":"NL","$campaigns":[1875892,1714688],"$browser_version":9,"$timezone":"Europe/Amsterdam","$city":"Amsterdam","$region":"North Holland","$created":"2017-05-03T12:10:11","$last_seen":"2017-05-03T12:10:12","plan":"pro"}}',
      ),
    ).toEqual({
      userId: '13b20239a29335',
      time: '2017-05-03T12:10:12',
      fields: { created: '2017-05-03T12:10:11', city: 'Amsterdam', region: 'North Holland', country: 'NL', timezone: 'Europe/Amsterdam' },
      attributes: { plan: 'pro', campaigns: [1875892, 1714688], browser_version: 9 },
    });
  });

  it('$mp_first_event_time is created when $created is absent; push tokens and $transactions are left out; a bare name beside its $-name keeps both', () => {
    expect(
      read(
        'mixpanel',
        '{"$distinct_id":"u-1","$properties":{"$mp_first_event_time":"2024-01-02T03:04:05","$ios_devices":["abc"],"$transactions":[{"$amount":9.99}],"$browser":"Chrome","browser":"mine","$email":"a@b.c"}}',
      ),
    ).toEqual({
      userId: 'u-1',
      time: undefined,
      fields: { created: '2024-01-02T03:04:05' },
      attributes: { browser: 'mine', $browser: 'Chrome', email: 'a@b.c' },
    });
  });

  it('a flat profile (mixpanel-import streams $properties flattened) reads the same; a 19-digit id keeps its digits', () => {
    const r = read('mixpanel', '{"$distinct_id":1234567890123456789,"$email":"x@y.z","$last_seen":"2026-01-01T00:00:00"}');
    expect(r).toEqual({ userId: '\u00001234567890123456789', time: '2026-01-01T00:00:00', fields: {}, attributes: { email: 'x@y.z' } });
  });

  it('a whole Engage API page is refused with the fix, not read as one user', () => {
    const r = read('mixpanel', '{"page":0,"page_size":1000,"session_id":"s","status":"ok","total":1,"results":[{"$distinct_id":4,"$properties":{}}]}');
    expect(r).toMatchObject({ kind: 'rejected', reason: 'missing_user_id' });
    expect((r as { message: string }).message).toContain('each element of "results" on its own line');
  });
});

describe('segment identify calls', () => {
  it('the Segment-delivered identify sample: traits are the attributes, timestamp the time', () => {
    expect(
      read(
        'segment',
        '{"channel":"server","messageId":"api-282oOwIb","receivedAt":"2022-04-20T03:06:51.900Z","timestamp":"2022-04-20T03:06:51.900Z","traits":{"company":"Twilio","email":"t@example.com","name":"Test1 User","phone":"+61400000000","title":"SE"},"type":"identify","userId":"1","version":2}',
      ),
    ).toEqual({
      userId: '1',
      time: '2022-04-20T03:06:51.900Z',
      fields: {},
      attributes: { company: 'Twilio', email: 't@example.com', name: 'Test1 User', phone: '+61400000000', title: 'SE' },
    });
  });

  it('createdAt is created; address and company stay objects for the rule step to flatten with _', () => {
    expect(
      read(
        'segment',
        '{"type":"identify","userId":"u-2","anonymousId":"a-2","timestamp":"2022-04-21T10:00:00Z","traits":{"createdAt":"2021-03-01T10:00:00Z","address":{"city":"Oslo","postalCode":"0150"},"company":{"name":"Acme","plan":"enterprise"},"age":41}}',
      ),
    ).toEqual({
      userId: 'u-2',
      time: '2022-04-21T10:00:00Z',
      fields: { created: '2021-03-01T10:00:00Z' },
      attributes: { address: { city: 'Oslo', postalCode: '0150' }, company: { name: 'Acme', plan: 'enterprise' }, age: 41 },
    });
  });

  it('every other call type is dropped as not_profile; an anonymous-only call has no user id (the --anonymous rule decides)', () => {
    for (const type of ['track', 'page', 'screen', 'group', 'alias'])
      expect(read('segment', `{"type":"${type}","userId":"u"}`)).toEqual({ kind: 'dropped', reason: 'not_profile' });
    expect(read('segment', '{"type":"identify","userId":null,"anonymousId":"anon-9","timestamp":"2022-04-20T03:06:51","traits":{"plan":"free"}}')).toEqual({
      userId: null,
      time: '2022-04-20T03:06:51Z',
      fields: {},
      attributes: { plan: 'free' },
    });
    expect(USER_PRESETS['segment']!.anonymousId).toBe('anonymousId');
  });

  it('context.locale and context.timezone (filled by the Segment library) are the locale and timezone fields; a trait of the same name wins', () => {
    expect(
      read(
        'segment',
        '{"type":"identify","userId":"u-3","timestamp":"2024-03-01T09:00:00Z","context":{"ip":"203.0.113.7","library":{"name":"analytics.js","version":"4.1.0"},"locale":"en-US","timezone":"Europe/Amsterdam","userAgent":"Mozilla/5.0"},"traits":{"plan":"pro"}}',
      ),
    ).toEqual({
      userId: 'u-3',
      time: '2024-03-01T09:00:00Z',
      fields: { locale: 'en-US', timezone: 'Europe/Amsterdam' },
      attributes: { plan: 'pro' },
    });
    expect(
      read(
        'segment',
        '{"type":"identify","userId":"u-3","timestamp":"2024-03-02T09:00:00Z","context":{"locale":"en-US","timezone":"Europe/Amsterdam"},"traits":{"locale":"nl-NL","timezone":""}}',
      ),
    ).toEqual({
      userId: 'u-3',
      time: '2024-03-02T09:00:00Z',
      fields: { locale: 'nl-NL', timezone: 'Europe/Amsterdam' },
      attributes: { locale: 'nl-NL', timezone: '' },
    });
  });

  it('without timestamp: originalTimestamp, then receivedAt', () => {
    expect(read('segment', '{"type":"identify","userId":"u","receivedAt":"2022-04-20T03:06:51.900Z","traits":{}}')).toMatchObject({
      time: '2022-04-20T03:06:51.900Z',
    });
  });
});

describe('posthog persons batch export', () => {
  it('one row per distinct id: properties (object or JSON string), created_at → created, $geoip_* → fields, person_version orders', () => {
    const object = read(
      'posthog',
      '{"team_id":1,"distinct_id":"ph-user-1","person_id":"0190a1b2-aaaa","properties":{"email":"p@example.com","plan":"pro","$geoip_city_name":"Berlin","$geoip_country_code":"DE","$geoip_subdivision_1_name":"Land Berlin","$geoip_time_zone":"Europe/Berlin","$initial_browser":"Firefox","$creator_event_uuid":"0190a1b2-e001"},"person_distinct_id_version":0,"person_version":3,"created_at":"2024-05-01T10:00:00Z","_inserted_at":"2024-05-02T00:00:00Z","is_deleted":false}',
    );
    expect(object).toEqual({
      userId: 'ph-user-1',
      time: undefined,
      version: [3, 0],
      fields: { created: '2024-05-01T10:00:00Z', city: 'Berlin', region: 'Land Berlin', country: 'DE', timezone: 'Europe/Berlin' },
      attributes: { email: 'p@example.com', plan: 'pro', initial_browser: 'Firefox' },
    });
    const text = read(
      'posthog',
      '{"distinct_id":"ph-user-1","properties":"{\\"email\\":\\"p@example.com\\",\\"plan\\":\\"pro\\"}","person_version":"4","created_at":"2024-05-01 10:00:00.000000","is_deleted":0}',
    );
    expect(text).toEqual({
      userId: 'ph-user-1',
      time: undefined,
      version: [4, -1],
      fields: { created: '2024-05-01 10:00:00.000000Z' },
      attributes: { email: 'p@example.com', plan: 'pro' },
    });
  });

  it('deleted persons are dropped as deleted (true, 1, "true"); properties null is no attribute', () => {
    for (const flag of ['true', '1', '"true"'])
      expect(read('posthog', `{"distinct_id":"d","properties":{"a":1},"is_deleted":${flag}}`)).toEqual({ kind: 'dropped', reason: 'deleted' });
    expect(read('posthog', '{"distinct_id":"d","properties":null,"created_at":1714557600,"is_deleted":false}')).toEqual({
      userId: 'd',
      time: undefined,
      version: [-1, -1],
      fields: { created: '1714557600' },
      attributes: {},
    });
  });
});

describe('posthog persons from the API', () => {
  it("the API's documented person (properties null): one user per distinct id, created_at → created, no attribute", () => {
    expect(
      read(
        'posthog',
        '{"id":0,"name":"string","distinct_ids":["string"],"properties":null,"created_at":"2019-08-24T14:15:22Z","uuid":"095be615-a8ad-4c33-8e9c-c7612fbf6c9f"}',
      ),
    ).toEqual([{ userId: 'string', time: undefined, fields: { created: '2019-08-24T14:15:22Z' }, attributes: {} }]);
  });

  it('a person with an anonymous and an identified distinct id is two users with the same values, as the batch export rows are', () => {
    const person =
      '{"id":42,"name":"p@example.com","distinct_ids":["0190a1b2-anon-9","ph-9"],"properties":{"email":"p@example.com","plan":"pro","$geoip_country_code":"NL","$geoip_time_zone":"Europe/Amsterdam","$initial_browser":"Safari","$creator_event_uuid":"0190a1b2-e009"},"created_at":"2024-05-01T10:00:00Z","uuid":"0190a1b2-c3d4-7000-8000-000000000009","last_seen_at":"2024-06-01T00:00:00Z","is_identified":true}';
    const user = (userId: string) => ({
      userId,
      time: undefined,
      fields: { created: '2024-05-01T10:00:00Z', country: 'NL', timezone: 'Europe/Amsterdam' },
      attributes: { email: 'p@example.com', plan: 'pro', initial_browser: 'Safari' },
    });
    expect(read('posthog', person)).toEqual([user('0190a1b2-anon-9'), user('ph-9')]);
    const projected = new UsersPresetProjection(USER_PRESETS['posthog']!, { map: {}, attrs: [], dropAttrs: [], renames: [] }).project(rec(person));
    expect(projected).toEqual([
      { ...user('0190a1b2-anon-9'), refused: [] },
      { ...user('ph-9'), refused: [] },
    ]);
  });

  it('no distinct id: no user id (rejected by the rules); one id a list or an object: the person is refused whole', () => {
    expect(read('posthog', '{"id":1,"distinct_ids":[],"properties":{"plan":"pro"},"created_at":"2024-05-01T10:00:00Z"}')).toEqual({
      userId: undefined,
      time: undefined,
      fields: { created: '2024-05-01T10:00:00Z' },
      attributes: { plan: 'pro' },
    });
    const projection = new UsersPresetProjection(USER_PRESETS['posthog']!, { map: {}, attrs: [], dropAttrs: [], renames: [] });
    expect(projection.project(rec('{"id":2,"distinct_ids":["ph-2",{"x":1}],"properties":{"plan":"pro"}}'))).toEqual({
      kind: 'rejected',
      reason: 'bad_user_id',
      message: 'userId is a list or an object: expected a string or a whole number',
    });
  });
});

describe('amplitude user_properties', () => {
  it('the real export line: event_time (space, µs, no Z) is UTC; user_creation_time → created; empty user_properties sets nothing', () => {
    expect(
      read(
        'amplitude',
        '{"event_type":"session_start","user_id":"amp-7","device_id":"ffff-1","event_time":"2023-01-01 19:02:52.749000","user_creation_time":"2022-12-30 08:00:00.000000","user_properties":{}}',
      ),
    ).toEqual({ userId: 'amp-7', time: '2023-01-01 19:02:52.749000Z', fields: { created: '2022-12-30 08:00:00.000000Z' }, attributes: {} });
  });

  it('a snapshot dict is taken as it is; an $identify operations dict gives its $set keys only', () => {
    expect(
      read('amplitude', '{"user_id":"a","event_time":"2023-01-02T00:00:00","user_properties":{"plan":"pro","cohort":["a","b"],"score":12}}'),
    ).toMatchObject({
      time: '2023-01-02T00:00:00Z',
      attributes: { plan: 'pro', cohort: ['a', 'b'], score: 12 },
    });
    expect(
      read(
        'amplitude',
        '{"event_type":"$identify","user_id":"a","event_time":"2023-01-02 00:00:01.000000","user_properties":{"$set":{"plan":"team"},"$setOnce":{"first_plan":"free"},"$add":{"logins":1},"$unset":{"trial":"-"}}}',
      ),
    ).toEqual({ userId: 'a', time: '2023-01-02 00:00:01.000000Z', fields: {}, attributes: { plan: 'team' } });
  });
});

describe('ga4 user_properties', () => {
  it('the real Firebase row: first_open_time (ms in int_value) exact, its own set time; user_first_touch_timestamp → created', () => {
    expect(
      read(
        'ga4',
        '{"event_timestamp":"1673777020000000","user_pseudo_id":"8d59ce7133e03f6170eadbce40174c91","user_id":"fb-1","user_properties":[{"key":"first_open_time","value":{"string_value":null,"int_value":"1673780400000","float_value":null,"double_value":null,"set_timestamp_micros":"1673777018672000"}}],"user_first_touch_timestamp":"1673777018672000"}',
      ),
    ).toEqual({
      userId: 'fb-1',
      time: '1673777020000000',
      fields: { created: '1673777018672000' },
      attributes: { first_open_time: 1673780400000 },
      attributeTimes: { first_open_time: 1673777018672 },
    });
  });

  it('INT64 past 2^53 stays exact (bigint), as a string or as a long literal; double and string slots; no slot: null', () => {
    const r = read(
      'ga4',
      '{"user_id":"g","event_timestamp":1790845200000000,"user_properties":[{"key":"big","value":{"int_value":"9007199254740993","set_timestamp_micros":"1790845100000000"}},{"key":"lit","value":{"int_value":-5164663614086310235}},{"key":"ltv","value":{"double_value":12.5}},{"key":"tier","value":{"string_value":"gold","int_value":null}},{"key":"unset","value":{"string_value":null}}]}',
    );
    expect(r).toEqual({
      userId: 'g',
      time: '1790845200000000',
      fields: {},
      attributes: { big: 9007199254740993n, lit: -5164663614086310235n, ltv: 12.5, tier: 'gold', unset: null },
      attributeTimes: { big: 1790845100000 },
    });
  });

  it('a Parquet row (INT64 as bigint): the same values, times in ms', () => {
    const row = {
      user_id: 'pq-1',
      event_timestamp: 1790845800000000n,
      user_first_touch_timestamp: 1790841600000000n,
      user_properties: [
        { key: 'visits', value: { string_value: null, int_value: 12n, float_value: null, double_value: null, set_timestamp_micros: 1790845700123456n } },
        { key: 'big', value: { string_value: null, int_value: 9007199254740993n, float_value: null, double_value: null, set_timestamp_micros: null } },
      ],
    } as unknown as JsonObject;
    expect(USER_PRESETS['ga4']!.read(row)).toEqual({
      userId: 'pq-1',
      time: '1790845800000000',
      fields: { created: '1790841600000000' },
      attributes: { visits: 12n, big: 9007199254740993n },
      attributeTimes: { visits: 1790845700123 },
    });
  });

  it('the user-data export (users_YYYYMMDD): user_info gives created and lastActive, and the time', () => {
    expect(
      read(
        'ga4',
        '{"user_id":"u-9","occurrence_date":"20240105","last_updated_date":"20240105","user_info":{"last_active_timestamp_micros":"1704450000000000","user_first_touch_timestamp_micros":"1700000000000000","first_purchase_date":"20231201"},"user_properties":[{"key":"plan","value":{"string_value":"pro","set_timestamp_micros":"1704000000000000"}}]}',
      ),
    ).toEqual({
      userId: 'u-9',
      time: '1704450000000000',
      fields: { created: '1700000000000000', lastActive: '1704450000000000' },
      attributes: { plan: 'pro' },
      attributeTimes: { plan: 1704000000000 },
    });
    expect(USER_PRESETS['firebase']).toBe(USER_PRESETS['ga4']);
  });
});

describe("a record with only the vendor's anonymous id", () => {
  const project = (preset: string, text: string, anonymous?: string) =>
    new UsersPresetProjection(USER_PRESETS[preset]!, { map: {}, attrs: [], dropAttrs: [], renames: [], anonymous }).project(rec(text));

  it("is rejected as missing_user_id naming --anonymous <the preset's anonymous id>; with it, kept under that id", () => {
    const call = '{"type":"identify","userId":null,"anonymousId":"anon-7","timestamp":"2026-10-01T10:00:00Z","traits":{"plan":"free"}}';
    expect(project('segment', call)).toEqual({
      kind: 'rejected',
      reason: 'missing_user_id',
      message: 'userId is empty; the record has anonymousId "anon-7": add --anonymous anonymousId to import such records under it (--preset segment)',
    });
    expect(project('segment', call, 'anonymousId')).toMatchObject({ userId: 'anon-7', attributes: { plan: 'free' } });
    const row = '{"user_id":null,"user_pseudo_id":"1712345.678","event_timestamp":"1790845200123456","user_properties":[]}';
    expect(project('ga4', row)).toMatchObject({ kind: 'rejected', message: expect.stringContaining('add --anonymous user_pseudo_id') });
    // no anonymous id either: the rules' own message (missing_user_id, "userId is empty")
    expect(project('segment', '{"type":"identify","traits":{"plan":"free"}}')).toMatchObject({ userId: null });
  });
});

describe('helpers', () => {
  it('microsToMillis: exact, floored, digits as text or a number', () => {
    expect(microsToMillis('1673777018672999')).toBe(1673777018672);
    expect(microsToMillis(1790845100000000)).toBe(1790845100000);
    expect(microsToMillis('-1500')).toBe(-2);
    expect(microsToMillis('1.5e15')).toBeUndefined();
    expect(microsToMillis(null)).toBeUndefined();
  });

  it('int64Value: a number only when a double holds it', () => {
    expect(int64Value('9007199254740991')).toBe(9007199254740991);
    expect(int64Value('9007199254740992')).toBe(9007199254740992n);
    expect(int64Value('12a')).toBe('12a');
    expect(ga4PropertyValue({ float_value: '0.5' })).toBe(0.5);
    expect(ga4PropertyValue({ double_value: '0.1000000000000000055' })).toBe('0.1000000000000000055');
  });

  it('renameVendorKeys: mapped, skipped, $ stripped, a collision keeps both', () => {
    expect(renameVendorKeys({ $email: 'e', $os: 'iOS', os: 'mine', $skip: 1, plan: 'p', $: 'odd' }, { $email: 'email' }, new Set(['$skip']))).toEqual({
      os: 'mine',
      plan: 'p',
      email: 'e',
      $os: 'iOS',
      $: 'odd',
    });
  });
});
