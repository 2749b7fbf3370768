// Issue 19, users presets: the merge of a vendor's records, end to end through the pure steps
// (preset → projection → record rules → merge), against oracles written from each vendor's rule
// (../shared/VENDOR-PROFILES.md and docs/inputs-and-presets.md "Users presets"), not from the
// code: Segment — per trait the identify call with the latest timestamp; GA4 — per property the
// latest set_timestamp_micros; PostHog — per property the row with the highest person_version;
// Mixpanel — the latest $last_seen; Amplitude — the latest event_time. When those differ, the
// order of the input lines does not change the result.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { mergeUserRecords, type PlacedRecord } from '../../src/events/user-merge.js';
import { settleUserRecord } from '../../src/events/user-rules.js';
import { UsersPresetProjection } from '../../src/presets/user-projection.js';
import { parseJson, type JsonObject } from '../../src/input/json/json-text.js';
import type { UserValue } from '../../src/model/user-record.js';
import { USER_PRESETS } from '../../src/presets/users/index.js';

/** The lines of an export through the pure steps: user id → attribute → value, in userId order. */
function merged(preset: string, lines: string[]): Record<string, Record<string, UserValue>> {
  const projection = new UsersPresetProjection(USER_PRESETS[preset]!, { map: {}, attrs: [], dropAttrs: [], renames: [] });
  const placed: PlacedRecord[] = [];
  lines.forEach((line, position) => {
    const p = parseJson(line);
    if (!p.ok) throw new Error(p.message);
    const projected = projection.project(p.value as JsonObject);
    // a PostHog person from the API is one user per distinct id
    for (const raw of Array.isArray(projected) ? projected : [projected]) {
      if ('kind' in raw) return;
      const r = settleUserRecord(raw, { timeFormat: 'auto', zone: 'UTC', clearEmpty: false }, () => {});
      if (r.kind === 'kept') placed.push({ record: r.record, position });
    }
  });
  const out: Record<string, Record<string, UserValue>> = {};
  for (const u of mergeUserRecords(placed, false)) out[u.userId] = { ...u.attributes };
  return out;
}

/** The same lines in another order (a permutation given by random sort keys). */
const permuted = <T>(xs: T[], keys: number[]): T[] =>
  xs
    .map((x, i) => ({ x, k: keys[i % keys.length]! * 1000 + i }))
    .sort((a, b) => a.k - b.k)
    .map((e) => e.x);

const USERS = ['u1', 'u2', 'u3'];
const KEYS = ['plan', 'email', 'score', 'vip'];
/** a non-empty scalar (empty values never set anything, so the oracle below need not model them) */
const valueArb = fc.oneof(fc.constantFrom('free', 'pro', 'a@b.c'), fc.integer({ min: 0, max: 99 }), fc.boolean());
const propsArb = fc.dictionary(fc.constantFrom(...KEYS), valueArb, { maxKeys: 4 });
/** distinct instants (seconds), one per line: the vendor's order is then total */
const instantsArb = (n: number) => fc.uniqueArray(fc.integer({ min: 1_700_000_000, max: 1_790_000_000 }), { minLength: n, maxLength: n });
const iso = (s: number) => new Date(s * 1000).toISOString();

/** The oracle: per user and key, the value of the line with the greatest order. */
function latest(rows: { user: string; order: number; props: Record<string, UserValue> }[]): Record<string, Record<string, UserValue>> {
  const best: Record<string, Record<string, { order: number; v: UserValue }>> = {};
  for (const r of rows) {
    const m = (best[r.user] ??= {});
    for (const [k, v] of Object.entries(r.props)) if (m[k] === undefined || r.order > m[k].order) m[k] = { order: r.order, v };
  }
  const out: Record<string, Record<string, UserValue>> = {};
  for (const [u, m] of Object.entries(best)) {
    const attrs = Object.fromEntries(Object.entries(m).map(([k, { v }]) => [k, v]));
    if (Object.keys(attrs).length > 0) out[u] = attrs;
  }
  return out;
}

const rowsArb = fc
  .array(fc.record({ user: fc.constantFrom(...USERS), props: propsArb }), { minLength: 1, maxLength: 12 })
  .chain((rows) => fc.tuple(fc.constant(rows), instantsArb(rows.length), fc.array(fc.nat(50), { minLength: rows.length, maxLength: rows.length })));

describe('users presets: the merge follows the vendor, whatever the order of the lines', () => {
  test.prop([rowsArb, fc.array(fc.constantFrom('track', 'page', 'group'), { maxLength: 3 })])(
    'segment: per trait, the identify call with the latest timestamp; other calls change nothing',
    ([rows, instants, keys], others) => {
      const lines = rows.map((r, i) => JSON.stringify({ type: 'identify', userId: r.user, timestamp: iso(instants[i]!), traits: r.props }));
      for (const t of others)
        lines.push(JSON.stringify({ type: t, userId: 'u1', timestamp: iso(1_795_000_000), properties: { plan: 'never' }, traits: { plan: 'never' } }));
      const want = latest(rows.map((r, i) => ({ user: r.user, order: instants[i]!, props: r.props })));
      expect(merged('segment', lines)).toEqual(want);
      expect(merged('segment', permuted(lines, keys))).toEqual(want);
    },
  );

  test.prop([rowsArb])("ga4: per property, the latest set_timestamp_micros, whatever the rows' own times", ([rows, instants, keys]) => {
    // each property carries its own set time; the row's event_timestamp runs the other way
    const lines = rows.map((r, i) =>
      JSON.stringify({
        user_id: r.user,
        event_timestamp: String((3_490_000_000 - instants[i]!) * 1_000_000),
        user_properties: Object.entries(r.props).map(([key, v]) => ({
          key,
          value:
            typeof v === 'string'
              ? { string_value: v, set_timestamp_micros: `${instants[i]!}000000` }
              : typeof v === 'number'
                ? { int_value: String(v), set_timestamp_micros: `${instants[i]!}000000` }
                : { string_value: String(v), set_timestamp_micros: `${instants[i]!}000000` },
        })),
      }),
    );
    const props = rows.map((r) => Object.fromEntries(Object.entries(r.props).map(([k, v]) => [k, typeof v === 'boolean' ? String(v) : v])));
    const want = latest(rows.map((r, i) => ({ user: r.user, order: instants[i]!, props: props[i]! })));
    expect(merged('ga4', lines)).toEqual(want);
    expect(merged('ga4', permuted(lines, keys))).toEqual(want);
  });

  test.prop([rowsArb])('posthog: per property, the row with the highest person_version; deleted rows change nothing', ([rows, instants, keys]) => {
    const lines = rows.map((r, i) =>
      JSON.stringify({ distinct_id: r.user, person_version: instants[i]! - 1_700_000_000, properties: JSON.stringify(r.props), is_deleted: false }),
    );
    lines.push(JSON.stringify({ distinct_id: 'u1', person_version: 999_999_999, properties: { plan: 'deleted' }, is_deleted: true }));
    const want = latest(rows.map((r, i) => ({ user: r.user, order: instants[i]!, props: r.props })));
    expect(merged('posthog', lines)).toEqual(want);
    expect(merged('posthog', permuted(lines, keys))).toEqual(want);
  });

  test.prop([rowsArb])('mixpanel: the profile with the latest $last_seen', ([rows, instants, keys]) => {
    const lines = rows.map((r, i) => JSON.stringify({ $distinct_id: r.user, $properties: { ...r.props, $last_seen: iso(instants[i]!).slice(0, 19) } }));
    const want = latest(rows.map((r, i) => ({ user: r.user, order: instants[i]!, props: r.props })));
    expect(merged('mixpanel', lines)).toEqual(want);
    expect(merged('mixpanel', permuted(lines, keys))).toEqual(want);
  });

  test.prop([rowsArb])('amplitude: the event with the latest event_time', ([rows, instants, keys]) => {
    const lines = rows.map((r, i) =>
      JSON.stringify({ event_type: 'e', user_id: r.user, event_time: iso(instants[i]!).replace('T', ' ').replace('Z', '000'), user_properties: r.props }),
    );
    const want = latest(rows.map((r, i) => ({ user: r.user, order: instants[i]!, props: r.props })));
    expect(merged('amplitude', lines)).toEqual(want);
    expect(merged('amplitude', permuted(lines, keys))).toEqual(want);
  });
});
