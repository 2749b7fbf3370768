import { describe, expect, it } from 'vitest';
import { BillableLookups, LookupsInOrder } from '../../src/events/cost.js';
import { parseShard, shardOf, ShardFilter } from '../../src/events/shard.js';

// LEANPLUM-API.md: the file is split into batches of 50 actions; each unique user looked up in a
// batch is one billable call. The expected numbers below are worked out by hand from that rule.
const feed = (users: readonly string[], m = new BillableLookups()) => {
  for (const u of users) m.rows(u);
  return m;
};
const roundRobin = (n: number, users: readonly string[]) => Array.from({ length: n }, (_, i) => users[i % users.length]!);
const grouped = (per: number, users: readonly string[]) => users.flatMap((u) => Array<string>(per).fill(u));

describe('billable lookups', () => {
  it('120 rows of 4 users taking turns: 4 users in each of the 3 batches (50, 50, 20 rows) = 12', () => {
    const m = feed(roundRobin(120, ['u1', 'u2', 'u3', 'u4']));
    m.endPart();
    expect(m.total).toBe(12);
  });

  it('the same rows grouped by user (30 each): batch 1 = u1, u2; batch 2 = u2, u3, u4; batch 3 = u4: 6', () => {
    const m = feed(grouped(30, ['u1', 'u2', 'u3', 'u4']));
    m.endPart();
    expect(m.total).toBe(6);
    const runs = new BillableLookups();
    for (const u of ['u1', 'u2', 'u3', 'u4']) runs.rows(u, 30);
    runs.endPart();
    expect(runs.total).toBe(6);
  });

  it('a batch never spans two parts: 10 rows of u1 at the end of one part and 10 at the start of the next are 2 lookups', () => {
    const m = new BillableLookups();
    m.rows('u1', 10);
    m.endPart();
    m.rows('u1', 10);
    m.endPart();
    expect(m.total).toBe(2);
    expect(m.byPart).toEqual([1, 1]);
  });

  it('one row per user: one lookup per row; 51 rows of one user: 2 batches, 2 lookups', () => {
    const a = feed(Array.from({ length: 75 }, (_, i) => `u${i}`));
    a.endPart();
    expect(a.total).toBe(75);
    const b = new BillableLookups();
    b.rows('solo', 51);
    b.endPart();
    expect(b.total).toBe(2);
  });

  it('input order split into parts as the writer would: 50-byte rows, a 30-byte header, 2280-byte parts hold 45 rows each', () => {
    const m = new LookupsInOrder(30, 2280);
    for (const u of roundRobin(120, ['u1', 'u2', 'u3', 'u4'])) m.row(u, 50);
    const l = m.end();
    // parts of 45, 45 and 30 rows; every batch of every part has all 4 users
    expect(l.byPart).toEqual([4, 4, 4]);
    expect(l.total).toBe(12);
  });
});

describe('shard of a user', () => {
  // Expected values computed once outside the code, e.g.
  //   printf %s u1 | sha256sum → bb82030dbc2bcaba… ; 0xbb82030dbc2bcaba = 13511365189591354042
  //   13511365189591354042 mod 4 = 2, mod 7 = 6, mod 1000 = 42
  it('is the first 8 bytes of SHA-256 of the UTF-8 userId, big-endian, mod N', () => {
    expect(shardOf('u1', 4)).toBe(2);
    expect(shardOf('u1', 7)).toBe(6);
    expect(shardOf('u1', 1000)).toBe(42);
    expect(shardOf('u2', 4)).toBe(3); // 6ca202c88e549dff = 7827822162727968255
    expect(shardOf('u2', 1000)).toBe(255);
    expect(shardOf('alice', 4)).toBe(3); // 2bd806c97f0e00af = 3159282601090220207
    expect(shardOf('alice', 1000)).toBe(207);
    expect(shardOf('Zoë', 4)).toBe(0); // UTF-8 bytes 5a 6f c3 ab: c6a12698582fc110 = 14312763526516556048
    expect(shardOf('Zoë', 7)).toBe(3);
    expect(shardOf('😀', 7)).toBe(3); // f0443a342c5ef547 = 17313026863276160327
    expect(shardOf('😀', 1000)).toBe(327);
    expect(shardOf('user-42', 7)).toBe(2); // 6d894aa3ee802549 = 7892921889885005129
    expect(shardOf('', 1000)).toBe(652); // e3b0c44298fc1c14 = 16406829232824261652
    expect(shardOf('anything', 1)).toBe(0);
  });

  it('a filter keeps exactly the users of its shard, and every user is in exactly one shard', () => {
    const users = Array.from({ length: 500 }, (_, i) => `user-${i}`);
    const filters = [0, 1, 2, 3].map((index) => new ShardFilter({ index, count: 4 }));
    for (const u of users) {
      const holders = filters.filter((f) => f.keeps(u)).map((f) => f.shard.index);
      expect(holders).toEqual([shardOf(u, 4)]);
    }
    // roughly even: each shard holds between 15% and 35% of 500 users
    for (const f of filters) {
      const n = users.filter((u) => f.keeps(u)).length;
      expect(n).toBeGreaterThan(75);
      expect(n).toBeLessThan(175);
    }
  });

  it('parses i/N and explains what is wrong otherwise', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    expect(parseShard('4/4')).toMatch(/from 0 to 3/);
    expect(parseShard('1/0')).toMatch(/≥ 1/);
    expect(parseShard('1-4')).toMatch(/expected i\/N/);
    expect(parseShard('-1/4')).toMatch(/expected i\/N/);
  });
});
