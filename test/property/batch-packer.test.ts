import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchPacker, batchUuidOf, mayStart, packRows, reqIdOf, type Batch, type PackerLimits } from '../../src/sinks/api/batch-packer.js';

// Written from issue 18 and LEANPLUM-API.md ("JSON multi"): at most 50 distinct users and 500
// actions per call; whole users packed; a user over 500 actions spans consecutive calls that are
// never in flight together; billable lookups = Σ distinct users per call.
const LIMITS: PackerLimits = { users: 50, actions: 500 };

/** Users with row counts around the limits, in user order (each user's rows together). */
const grouped = fc.array(fc.tuple(fc.integer({ min: 0, max: 80 }), fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 1600 }))), {
  maxLength: 120,
});
const userOrder = grouped.map((gs) => {
  const seen = new Set<number>();
  const rows: string[] = [];
  for (const [u, n] of gs) {
    if (seen.has(u)) continue; // user order: one group per user
    seen.add(u);
    for (let i = 0; i < n; i++) rows.push(`u${u}`);
  }
  return rows;
});
/** Input order: a user's rows may come back later (groups repeat). */
const inputOrder = grouped.map((gs) => gs.flatMap(([u, n]) => Array.from({ length: Math.min(n, 40) }, () => `u${u}`)));
/** Small limits make every edge frequent. */
const smallLimits = fc.record({ users: fc.integer({ min: 1, max: 5 }), actions: fc.integer({ min: 1, max: 12 }) });
const smallRows = fc.array(
  fc.integer({ min: 0, max: 6 }).map((u) => `u${u}`),
  { maxLength: 200 },
);

const usersOf = (rows: readonly string[], b: Batch) => new Set(rows.slice(b.first, b.first + b.rows));

function checkCommon(rows: readonly string[], batches: Batch[], limits: PackerLimits): void {
  // every row in exactly one batch: batches tile the rows in order
  let next = 0;
  for (const [i, b] of batches.entries()) {
    expect(b.n).toBe(i);
    expect(b.first).toBe(next);
    expect(b.rows).toBeGreaterThan(0);
    next += b.rows;
  }
  expect(next).toBe(rows.length);
  for (const b of batches) {
    const users = usersOf(rows, b);
    // never over the limits
    expect(b.rows).toBeLessThanOrEqual(limits.actions);
    expect(users.size).toBeLessThanOrEqual(limits.users);
    // the batch's users as counted
    expect(b.users).toBe(users.size);
    // continues ⇔ shares a user with the batch before
    const prev = batches[b.n - 1];
    const shares = prev !== undefined && [...users].some((u) => usersOf(rows, prev).has(u));
    expect(b.continues).toBe(shares);
  }
}

describe('batch packer', () => {
  it('user order: within the limits, every row once, a user split only when over 500 actions, billable = Σ distinct users', () => {
    fc.assert(
      fc.property(userOrder, (rows) => {
        const batches = packRows(rows, LIMITS);
        checkCommon(rows, batches, LIMITS);
        const total = new Map<string, number>();
        for (const u of rows) total.set(u, (total.get(u) ?? 0) + 1);
        const where = new Map<string, number[]>();
        for (const b of batches) for (const u of usersOf(rows, b)) where.set(u, [...(where.get(u) ?? []), b.n]);
        for (const [u, ns] of where) {
          const n = total.get(u)!;
          // the fewest calls a user can take, in consecutive batches
          expect(ns.length).toBe(Math.ceil(n / LIMITS.actions));
          expect(ns).toEqual(ns.map((_, i) => ns[0]! + i));
        }
        // the billable count is the oracle's Σ distinct users per call
        const p = new BatchPacker(() => undefined, LIMITS);
        for (const u of rows) p.rows(u);
        p.end();
        expect(p.billable).toBe(batches.reduce((s, b) => s + usersOf(rows, b).size, 0));
        expect(p.batches).toBe(batches.length);
      }),
    );
  });

  it('input order and tiny limits: the same invariants', () => {
    fc.assert(fc.property(inputOrder, (rows) => checkCommon(rows, packRows(rows, LIMITS), LIMITS)));
    fc.assert(fc.property(smallRows, smallLimits, (rows, limits) => checkCommon(rows, packRows(rows, limits), limits)));
  });

  it('feeding rows one by one or as runs gives the same batches', () => {
    fc.assert(
      fc.property(smallRows, smallLimits, (rows, limits) => {
        const out: Batch[] = [];
        const p = new BatchPacker((b) => out.push(b), limits);
        for (let i = 0; i < rows.length; ) {
          let j = i;
          while (j < rows.length && rows[j] === rows[i]) j++;
          p.rows(rows[i]!, j - i);
          i = j;
        }
        p.end();
        expect(out).toEqual(packRows(rows, limits));
      }),
    );
  });

  it('a scheduler that honours mayStart never has two batches sharing a user in flight, whatever the finishing order', () => {
    fc.assert(
      fc.property(smallRows, smallLimits, fc.integer({ min: 1, max: 6 }), fc.infiniteStream(fc.nat()), (rows, limits, concurrency, picks) => {
        const batches = packRows(rows, limits);
        const inFlight = new Map<number, Set<string>>();
        const it = picks[Symbol.iterator]();
        let next = 0;
        while (next < batches.length || inFlight.size > 0) {
          const b = batches[next];
          const users = b === undefined ? undefined : usersOf(rows, b);
          if (users !== undefined && inFlight.size < concurrency && mayStart(users, inFlight.values())) {
            inFlight.set(next++, users);
            // the property itself: no user in two in-flight batches
            const all = [...inFlight.values()].flatMap((s) => [...s]);
            expect(new Set(all).size).toBe(all.length);
          } else {
            const keys = [...inFlight.keys()];
            inFlight.delete(keys[it.next().value % keys.length]!);
          }
        }
      }),
    );
  });

  it('a user with more than 500 actions fills full calls, its remainder opens the next one', () => {
    const rows = [...Array(3).fill('a'), ...Array(1201).fill('big'), ...Array(2).fill('c')];
    expect(packRows(rows)).toEqual([
      { n: 0, first: 0, rows: 3, users: 1, continues: false },
      { n: 1, first: 3, rows: 500, users: 1, continues: false },
      { n: 2, first: 503, rows: 500, users: 1, continues: true },
      { n: 3, first: 1003, rows: 203, users: 2, continues: true },
    ]);
  });

  it('51 users of one row each: two calls', () => {
    const rows = Array.from({ length: 51 }, (_, i) => `u${i}`);
    expect(packRows(rows).map((b) => [b.rows, b.users])).toEqual([
      [50, 50],
      [1, 1],
    ]);
  });

  it('reqId and uuid: deterministic, UUID-shaped, distinct for distinct inputs', () => {
    expect(reqIdOf('r1', 0, 2, 0)).toBe(reqIdOf('r1', 0, 2, 0));
    expect(reqIdOf('r1', 0, 2, 0)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ids = new Set([reqIdOf('r1', 0, 2, 0), reqIdOf('r1', 0, 2, 1), reqIdOf('r1', 1, 2, 0), reqIdOf('r2', 0, 2, 0)]);
    expect(ids.size).toBe(4);
    const pos = fc.tuple(
      fc.oneof(fc.nat(5), fc.constant(4095), fc.constant(4096)),
      fc.oneof(fc.nat(3), fc.constant(2 ** 30 - 1), fc.constant(2 ** 30)),
      fc.oneof(fc.nat(3), fc.constant(2 ** 32 - 1), fc.constant(2 ** 32)),
    );
    fc.assert(
      fc.property(pos, pos, fc.constantFrom('r1', 'r2'), fc.constantFrom('r1', 'r2'), ([f1, l1, i1], [f2, l2, i2], a, b) => {
        const x = reqIdOf(a, f1, l1, i1);
        expect(x).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(x === reqIdOf(b, f2, l2, i2)).toBe(a === b && f1 === f2 && l1 === l2 && i1 === i2);
      }),
    );
    expect(batchUuidOf('r1', 3)).toBe(batchUuidOf('r1', 3));
    expect(batchUuidOf('r1', 3)).not.toBe(batchUuidOf('r1', 4));
  });
});
