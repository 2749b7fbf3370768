import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeUserRecords, olderFirst, UserFold, type PlacedRecord } from '../../src/events/user-merge.js';
import type { UserRecord, UserValue } from '../../src/model/user-record.js';
import { cellText } from '../../src/events/user-cells.js';
import { csvLine } from '../../src/transform/csv-line.js';
import { UsersFold } from '../../src/transform/users-fold.js';

// The merge rule of --kind users (docs/kinds.md "users"), written from the words with an oracle:
// for every user and attribute, the value sent is that of the record with the greatest
// (time — none counts as the oldest —, input position) among the records with a non-empty value.
const ATTRS = ['a', 'b', 'email', 'tags'];
const valueArb: fc.Arbitrary<UserValue> = fc.oneof(
  fc.constantFrom<UserValue>(null, '', []),
  fc.string({ maxLength: 4 }),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
  fc.array(fc.constantFrom('x', 'y'), { minLength: 1, maxLength: 3 }),
);
const recordArb = (timed: fc.Arbitrary<number | undefined>, extras = false): fc.Arbitrary<UserRecord> =>
  fc
    .record({
      userId: fc.constantFrom('u1', 'u2', 'u3'),
      time: timed,
      fields: fc.record({ locale: fc.constantFrom<UserValue>('en', 'de', '', null) }, { requiredKeys: [] }),
      attributes: fc.dictionary(fc.constantFrom(...ATTRS), valueArb, { maxKeys: 4 }),
      // GA4 times each value; PostHog orders by versions
      attributeTimes: fc.dictionary(fc.constantFrom(...ATTRS), fc.integer({ min: 0, max: 5 }), { maxKeys: 2 }),
      version: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
    })
    .map((r) => {
      const { attributeTimes, version, ...base } = r;
      return extras ? { ...base, attributeTimes, version } : base;
    });
const place = (rs: UserRecord[]): PlacedRecord[] => rs.map((record, position) => ({ record, position }));
const empty = (v: UserValue | undefined) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** [time ?? -∞, version[0] ?? -∞, version[1] ?? -∞, position]: compared left to right, the greater is later */
const keyOf = (time: number | undefined, version: readonly number[] | undefined, position: number): number[] => [
  time ?? Number.NEGATIVE_INFINITY,
  version?.[0] ?? Number.NEGATIVE_INFINITY,
  version?.[1] ?? Number.NEGATIVE_INFINITY,
  position,
];
const greater = (a: number[], b: number[]): boolean => {
  const i = a.findIndex((x, j) => x !== b[j]);
  return i >= 0 && a[i]! > b[i]!;
};

/** The oracle: per user and attribute, the non-empty value of the greatest key (its own time where it has one). */
function oracle(records: PlacedRecord[], clearEmpty: boolean): Map<string, Record<string, UserValue>> {
  const best = new Map<string, Map<string, { k: number[]; v: UserValue }>>();
  for (const { record, position } of records) {
    let m = best.get(record.userId);
    if (m === undefined) best.set(record.userId, (m = new Map()));
    for (const [a, v] of Object.entries(record.attributes)) {
      if (empty(v) && !clearEmpty) continue;
      const k = keyOf(record.attributeTimes?.[a] ?? record.time, record.version, position);
      const cur = m.get(a);
      if (cur === undefined || greater(k, cur.k)) m.set(a, { k, v: empty(v) ? null : v });
    }
  }
  const out = new Map<string, Record<string, UserValue>>();
  for (const [u, m] of best) out.set(u, Object.fromEntries([...m].map(([k, x]) => [k, x.v])));
  return out;
}

const attrsOf = (merged: ReturnType<typeof mergeUserRecords>) => new Map(merged.map((u) => [u.userId, { ...u.attributes }]));

describe("merge of one user's records (--kind users)", () => {
  it('the latest value wins per attribute: by time (its own where timed), records without a time oldest, then version, then input order', () => {
    fc.assert(
      fc.property(fc.array(recordArb(fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }), true), { maxLength: 30 }), fc.boolean(), (rs, clear) => {
        const placed = place(rs);
        const merged = mergeUserRecords(placed, clear);
        const want = oracle(placed, clear);
        for (const u of merged) expect(u.attributes, u.userId).toEqual(want.get(u.userId) ?? {});
        // every user with a record is there once, in code-point order
        expect(merged.map((u) => u.userId)).toEqual([...new Set(rs.map((r) => r.userId))].sort());
        expect(merged.reduce((n, u) => n + u.records, 0)).toBe(rs.length);
      }),
    );
  });

  it('is independent of input order when the times differ', () => {
    const distinctTimes = fc
      .array(recordArb(fc.constant(0)), { maxLength: 25 })
      .chain((rs) =>
        fc
          .shuffledSubarray([...Array(1000).keys()], { minLength: rs.length, maxLength: rs.length })
          .map((ts) => rs.map((r, i) => ({ ...r, time: ts[i]! * 1000 }))),
      );
    fc.assert(
      fc.property(
        distinctTimes.chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }))),
        fc.boolean(),
        ([rs, shuffled], clear) => {
          const a = mergeUserRecords(place(rs), clear);
          const b = mergeUserRecords(place(shuffled), clear);
          expect(attrsOf(b)).toEqual(attrsOf(a));
          expect(b.map((u) => u.fields)).toEqual(a.map((u) => u.fields));
        },
      ),
    );
  });

  it('an empty value never clears without --clear-empty; with it, a clear is null and a later value wins over it', () => {
    const r = (time: number | undefined, attributes: Record<string, UserValue>): UserRecord => ({ userId: 'u', time, fields: {}, attributes });
    const recs = place([r(3000, { a: '' }), r(1000, { a: 'x', b: 'keep' }), r(2000, { a: null, b: [] }), r(undefined, { c: 'old' }), r(4000, { c: '' })]);
    expect(mergeUserRecords(recs, false)[0]!.attributes).toEqual({ a: 'x', b: 'keep', c: 'old' });
    expect(mergeUserRecords(recs, true)[0]!.attributes).toEqual({ a: null, b: null, c: null });
    const later = place([r(1000, { a: null }), r(2000, { a: 'back' })]);
    expect(mergeUserRecords(later, true)[0]!.attributes).toEqual({ a: 'back' });
  });

  it('a record without a time is older than any record with one', () => {
    const recs: PlacedRecord[] = [
      { record: { userId: 'u', time: 5, fields: { locale: 'de' }, attributes: { a: 'timed' } }, position: 0 },
      { record: { userId: 'u', time: undefined, fields: { locale: 'en' }, attributes: { a: 'untimed' } }, position: 1 },
    ];
    expect(olderFirst(recs[1]!, recs[0]!)).toBeLessThan(0);
    const [u] = mergeUserRecords(recs, false);
    expect(u!.attributes).toEqual({ a: 'timed' });
    expect(u!.fields).toEqual({ locale: 'de' });
  });

  it('the fold refuses a record of another user (the sort hands one user at a time)', () => {
    const fold = new UserFold(false);
    fold.add({ userId: 'a', time: undefined, fields: {}, attributes: { x: 1 } }, 0);
    expect(() => fold.add({ userId: 'b', time: undefined, fields: {}, attributes: {} }, 1)).toThrow(/while folding a/);
    expect(fold.finish()).toEqual({ userId: 'a', fields: {}, attributes: { x: 1 }, records: 1 });
    expect(fold.current).toBeUndefined();
  });

  it("the transform's fold (sort payload, one user at a time) writes the rows of mergeUserRecords", () => {
    fc.assert(
      fc.property(fc.array(recordArb(fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }), true), { maxLength: 25 }), fc.boolean(), (rs, clear) => {
        const fold = new UsersFold(clear);
        for (const r of rs) fold.see(r);
        const payloads = rs.map((r, i) => ({ r, p: fold.payload(r, i), i }));
        const header = fold.columns().map((c) => c.name);
        // the sort's order: userId, time (none first), position
        payloads.sort((a, b) =>
          a.r.userId !== b.r.userId ? (a.r.userId < b.r.userId ? -1 : 1) : (a.r.time ?? -Infinity) - (b.r.time ?? -Infinity) || a.i - b.i,
        );
        const lines: string[] = [];
        for (let k = 0; k < payloads.length; k++) {
          const { r, p } = payloads[k]!;
          fold.add(r.userId, r.time ?? Number.NEGATIVE_INFINITY, p);
          if (k + 1 === payloads.length || payloads[k + 1]!.r.userId !== r.userId) lines.push(fold.end(r.userId));
        }
        const want = mergeUserRecords(place(rs), clear).map((u) => {
          const cells = header.map((h) => {
            if (h === 'userId') return u.userId;
            if (h === 'clearUserAttributes') {
              const cleared = Object.keys(u.attributes)
                .filter((k) => u.attributes[k] === null)
                .sort();
              return cleared.length === 0 ? '' : `[${cleared.join(', ')}]`;
            }
            const v = h.startsWith('userAttributes.') ? u.attributes[h.slice('userAttributes.'.length)] : u.fields[h as 'locale'];
            return cellText(v);
          });
          return csvLine(cells);
        });
        expect(lines).toEqual(want);
        expect(fold.folded).toBe(rs.length);
      }),
    );
  });
});
