// Issue 16, paths and values: dotted paths see inside JSON strings; a path that matches nothing
// stops before output (with or without a preset); "did you mean" ranks by the typed name; JSON
// user ids are strings or integers; an epoch ≤ 0 is implausible.
import { describe, expect, it } from 'vitest';
import { resolveMapping, suggestColumn } from '../../src/input/mapping.js';
import type { RowLayout } from '../../src/events/layout.js';
import { processRow, type RowOptions } from '../../src/events/row.js';
import { jsonText, parseJson, type JsonObject, type JsonValue } from '../../src/input/json/json-text.js';
import { compilePath, getPath, walkPaths } from '../../src/input/json/paths.js';
import { PRESETS } from '../../src/presets/index.js';
import { JsonProjection, type JsonMappingOptions, userIdProblem } from '../../src/presets/projection.js';
import { parseTime } from '../../src/time/parse.js';

const rec = (text: string) => {
  const p = parseJson(text);
  if (!p.ok) throw new Error(p.message);
  return p.value as JsonObject;
};

/** Scans and freezes; the thrown error's text, or the projection. */
function project(records: JsonObject[], o: Partial<JsonMappingOptions>) {
  const proj = new JsonProjection({ map: {}, params: [], paramsFrom: [], ...o });
  for (const r of records) proj.scan(r);
  try {
    const mapping = proj.freeze();
    return { proj, mapping, error: undefined };
  } catch (e) {
    return { proj, mapping: undefined, error: e as Error & { code: string } };
  }
}

describe('dotted paths step into JSON strings', () => {
  const r = rec(
    '{"properties":"{\\"amount\\":\\"19.90\\",\\"id\\":12345678901234567890,\\"cart\\":{\\"items\\":3}}","list":" [{\\"price\\":1.5}] ","plain":"{not json","text":"hello"}',
  );

  it('follows a path through a string holding an object or an array; long integers keep their digits', () => {
    expect(compilePath('properties.amount')(r)).toBe('19.90');
    expect(compilePath('properties.cart.items')(r)).toBe(3);
    expect(jsonText(compilePath('properties.id')(r))).toBe('12345678901234567890');
    expect(compilePath('list.0.price')(r)).toBe(1.5);
    expect(getPath(r, 'properties.amount')).toBe('19.90');
    // a string that is not JSON, or a path that ends at the string: as it is
    expect(compilePath('plain.x')(r)).toBeUndefined();
    expect(compilePath('text.length')(r)).toBeUndefined();
    expect(typeof compilePath('properties')(r)).toBe('string');
  });

  it('parses each string once per record (every reader gets the same object)', () => {
    const a = compilePath('properties', true)(r);
    const b = compilePath('properties', true)(r);
    expect(typeof a).toBe('object');
    expect(a).toBe(b);
    expect(compilePath('properties.cart')(r)).toBe((a as JsonObject)['cart']);
  });

  it('the header scan lists the paths inside JSON strings', () => {
    const names: string[] = [];
    walkPaths(r, '', (n) => names.push(n) > 0);
    expect(names).toEqual(expect.arrayContaining(['properties', 'properties.amount', 'properties.cart.items', 'list', 'plain']));
  });

  it('--params-from and --map read a JSON-string properties like an object', () => {
    const asString = rec('{"userId":"u","event":"buy","time":"2026-01-01T00:00:00Z","properties":"{\\"amount\\":\\"9.99\\",\\"plan\\":\\"pro\\"}"}');
    const { proj, mapping } = project([asString], { map: { value: 'properties.amount' }, paramsFrom: ['properties'] });
    expect(mapping!.outputHeader).toEqual(['userId', 'event', 'time', 'value', 'params.amount', 'params.plan']);
    expect(proj.project(asString)).toEqual(['u', 'buy', '2026-01-01T00:00:00Z', '9.99', '', '9.99', 'pro']);
  });

  it('posthog: value and currency from properties given as a JSON string (62 of 156 checkout rows were empty)', () => {
    const obj = rec('{"uuid":"1","event":"checkout","distinct_id":"u","timestamp":"2026-01-01T00:00:00Z","properties":{"amount":"5.00","currency":"EUR"}}');
    const str = rec(
      '{"uuid":"2","event":"checkout","distinct_id":"u","timestamp":"2026-01-01T00:00:00Z","properties":"{\\"amount\\":\\"5.00\\",\\"currency\\":\\"EUR\\"}"}',
    );
    const { proj } = project([obj, str], { preset: PRESETS['posthog'], map: { value: 'properties.amount', currencyCode: 'properties.currency' } });
    const a = proj.project(obj) as string[];
    const b = proj.project(str) as string[];
    expect(b.slice(3, 5)).toEqual(['5.00', 'EUR']);
    expect(b.slice(0, 5)).toEqual(a.slice(0, 5));
  });
});

describe('paths that match nothing stop before output; did-you-mean ranks by the typed name', () => {
  const posthog = [rec('{"uuid":"1","event":"e","distinct_id":"u","timestamp":"2026-01-01T00:00:00Z","properties":{"amount":"1"}}')];

  it('with a preset, a mistyped --map path is MISSING_COLUMN naming the closest path', () => {
    const { error } = project(posthog, { preset: PRESETS['posthog'], map: { time: 'timestmp' } });
    expect(error?.code).toBe('MISSING_COLUMN');
    expect(error?.message).toContain('Did you mean --map time=timestamp?');
  });

  it('with a preset, --map value=properties.amout suggests properties.amount; --param and --params-from too', () => {
    const { error } = project(posthog, {
      preset: PRESETS['posthog'],
      map: { value: 'properties.amout' },
      params: [{ column: 'propertes.amount', name: 'amt' }],
      paramsFrom: ['propertie'],
    });
    expect(error?.message).toContain('Did you mean --map value=properties.amount?');
    expect(error?.message).toContain('Did you mean --param properties.amount=amt?');
    expect(error?.message).toContain('Did you mean --params-from properties?');
  });

  it('a CSV column: event_timestmp suggests event_timestamp, not event_name', () => {
    expect(suggestColumn('time', ['user_id', 'event_name', 'event_timestamp'], 'event_timestmp')).toBe('event_timestamp');
    expect(() =>
      resolveMapping(['user_id', 'event_name', 'event_timestamp'], { map: { userId: 'user_id', event: 'event_name', time: 'event_timestmp' }, params: [] }),
    ).toThrow('Did you mean --map time=event_timestamp?');
    // nothing close to the typed name: the field's common names
    expect(suggestColumn('time', ['uid', 'ts'], 'when')).toBe('ts');
  });

  it('JSON without a preset: event_timestmp suggests event_timestamp', () => {
    const r = rec('{"user_id":"u","event_name":"e","event_timestamp":"2026-01-01T00:00:00Z"}');
    const { error } = project([r], { map: { userId: 'user_id', event: 'event_name', time: 'event_timestmp' } });
    expect(error?.message).toContain('Did you mean --map time=event_timestamp?');
  });

  it('GA4 with mostly empty user_id suggests --anonymous user_pseudo_id, unless --max-reject-rate allows that many', () => {
    const ga4 = (user: string) => rec(`{"event_name":"e","event_timestamp":"1790845200000000","user_id":${user},"user_pseudo_id":"p.1","event_params":[]}`);
    const records = [ga4('null'), ga4('null'), ga4('"u"'), ga4('null')];
    const stop = project(records, { preset: PRESETS['ga4'], maxRejectRate: 0.01 });
    expect(stop.error?.code).toBe('MISSING_COLUMN');
    expect(stop.error?.message).toContain('3 of the first 4 events have no user_id');
    expect(stop.error?.message).toContain('Did you mean --anonymous user_pseudo_id?');
    expect(project(records, { preset: PRESETS['ga4'], maxRejectRate: 0.01, anonymous: 'user_pseudo_id' }).error).toBeUndefined();
    expect(project(records, { preset: PRESETS['ga4'], maxRejectRate: 0.9 }).error).toBeUndefined();
    // no user id at all, and no anonymous id either: the field matches nothing
    const none = [rec('{"event_name":"e","event_timestamp":"1790845200000000","event_params":[]}')];
    expect(project(none, { preset: PRESETS['ga4'], maxRejectRate: 1 }).error?.message).toContain('userId: none of the first 1 events has a value for user_id');
  });
});

describe('JSON user ids are strings or integers', () => {
  it.each([
    ['true', 'a boolean'],
    ['{"a":1}', 'an object'],
    ['["x"]', 'an array'],
    ['1.5', 'not an integer'],
    ['12345678901234567.5', 'not an integer'],
    ['1e21', 'too large to be an exact integer'],
  ])('%s is bad_user_id', (id, why) => {
    const r = rec(`{"userId":${id},"event":"e","time":"2026-01-01T00:00:00Z"}`);
    const { proj } = project([r], {});
    const out = proj.project(r);
    expect(out).toMatchObject({ kind: 'rejected', reason: 'bad_user_id' });
    expect((out as { message: string }).message).toContain(why);
  });

  it('strings, integers and long integers pass', () => {
    for (const v of ['"u-1"', '42', '-7', '12345678901234567890']) expect(userIdProblem(rec(`{"u":${v}}`)['u'] as JsonValue)).toBeUndefined();
    expect(userIdProblem(10n)).toBeUndefined();
  });
});

describe('an epoch of 0 or less is implausible_time', () => {
  const layout: RowLayout = { width: 3, userId: 0, event: 1, time: 2, value: -1, currencyCode: -1, count: -1, first: -1, last: -1, dedupe: -1, params: [] };
  const opts = (timeFormat: RowOptions['timeFormat']): RowOptions => ({
    rule: {
      importAt: 1_795_132_800,
      maxDelay: 5 * 86400,
      clampAge: 360 * 86400,
      window: 365 * 86400,
      futureTolerance: 3600,
      minTime: 946_684_800,
      mode: 'keep',
    },
    timeFormat,
    zone: 'UTC',
    maxCount: 1000,
    valueIsTotal: false,
  });

  it.each(['auto', 'unix-s', 'unix-ms', 'unix-us', 'unix-ns'] as const)('%s: 0 and -1', (format) => {
    for (const t of ['0', '-1', '-1790845200']) {
      expect(parseTime(t, format, 'UTC')).toMatchObject({ ok: false, implausible: true });
      expect(processRow(['u', 'e', t], layout, opts(format))).toMatchObject({ kind: 'rejected', reason: 'implausible_time' });
    }
    expect(processRow(['u', 'e', 'x'], layout, opts(format))).toMatchObject({ kind: 'rejected', reason: 'bad_time' });
  });
});
