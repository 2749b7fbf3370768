import fc from 'fast-check';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RawTransformOptions } from '../../src/config.js';
import { CanaryPicker, canaryOrder, chooseCanary, userHash } from '../../src/events/canary.js';
import type { TransformSummary } from '../../src/model/summary.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { runTransform } from '../../src/transform/transform.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

// The canary (issue 20): the N users with the smallest hashes of their id, written to part 1 alone,
// whatever the order of the input; parts never split a user; every row written once.

/** The reference: FNV-1a 32 over the id's UTF-8 bytes as Buffer writes them, then murmur3's fmix32. */
function referenceHash(id: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(id, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const bySmallestHash = (users: Iterable<string>) => [...new Set(users)].map((u) => ({ u, h: userHash(u) })).sort((a, b) => canaryOrder(a.h, a.u, b.h, b.u));

describe('canary selection (pure)', () => {
  it('the hash is FNV-1a + fmix32 of the UTF-8 bytes (lone surrogates as U+FFFD, as Buffer writes them)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (id) => {
        expect(userHash(id)).toBe(referenceHash(id));
      }),
    );
    // stable across versions: a changed hash would pick another canary for the same export
    expect(userHash('u1')).toBe(referenceHash('u1'));
    expect([userHash(''), userHash('user-1')]).toEqual([referenceHash(''), referenceHash('user-1')]);
  });

  it('the picker keeps the `keep` smallest (hash, id) among distinct users, with their exact rows and bytes, in any input order', () => {
    const rows = fc.array(fc.tuple(fc.oneof(fc.constantFrom('u1', 'u2', 'u10', 'Ω', 'a😀'), fc.string({ maxLength: 3 })), fc.integer({ min: 1, max: 9 })), {
      maxLength: 200,
    });
    fc.assert(
      fc.property(rows, fc.integer({ min: 1, max: 12 }), (rs, keep) => {
        const p = new CanaryPicker(keep);
        for (const [u, b] of rs) p.row(u, b);
        const want = bySmallestHash(rs.map(([u]) => u)).slice(0, keep);
        const got = p.smallest();
        expect(got.map((x) => x.user)).toEqual(want.map((x) => x.u));
        for (const g of got) {
          const mine = rs.filter(([u]) => u === g.user);
          expect([g.rows, g.bytes]).toEqual([mine.length, mine.reduce((s, [, b]) => s + b, 0)]);
        }
        // the same users from the rows reversed
        const q = new CanaryPicker(keep);
        for (const [u, b] of [...rs].reverse()) q.row(u, b);
        expect(q.smallest().map((x) => x.user)).toEqual(got.map((x) => x.user));
      }),
    );
  });

  it('the default: 100 users only above 2,000 users; 0 is none; a canary of every user is none; it fits one part', () => {
    const users = (n: number) => Array.from({ length: n }, (_, i) => ({ user: `u${i}`, hash: i, rows: 1, bytes: 10 }));
    expect(chooseCanary(users(2000), 2000, undefined, 1e9).users).toHaveLength(0);
    expect(chooseCanary(users(2001), 2001, undefined, 1e9).users).toHaveLength(100);
    expect(chooseCanary(users(2001), 2001, 0, 1e9).note).toMatch(/--canary 0/);
    expect(chooseCanary(users(10), 10, 5, 1e9).users.map((u) => u.user)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(chooseCanary(users(10), 10, 10, 1e9).users).toHaveLength(0);
    const limited = chooseCanary(users(10), 10, 5, 25);
    expect(limited.users).toHaveLength(2);
    expect(limited.note).toMatch(/2 of 5 users/);
  });
});

const T = Date.parse(IMPORT_AT) / 1000;
const userArb = fc.oneof(
  fc.constantFrom('u1', 'u2', 'u3', 'u10', 'u11', 'U1', 'Ω', 'a😀', 'x,y', 'user-000000000001'),
  fc.string({ minLength: 1, maxLength: 3 }),
);
const rowArb = fc.tuple(userArb, fc.constantFrom('open', 'buy'), fc.integer({ min: T - 30 * 86400, max: T }), fc.constantFrom('1', '1', '2'));
const field = (f: string) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);

interface Out {
  summary: TransformSummary;
  rows: { part: string; userId: string; line: string }[];
  lines: string[];
}

async function run(dir: string, name: string, input: string, opts: Partial<RawTransformOptions>): Promise<Out> {
  const out = join(dir, name);
  const cfg = buildTransformConfig({ input, out, importAt: IMPORT_AT, maxRejectRate: 1, countColumn: 'n', ...opts }, new Date());
  const { summary } = await runTransform(cfg);
  const rows: Out['rows'] = [];
  for (const p of summary.outputs.clean) {
    const text = await readFile(join(out, p.file), 'utf8');
    const recs = parse(text, { columns: true }) as Record<string, string>[];
    for (const r of recs) rows.push({ part: p.file, userId: r['userId']!, line: JSON.stringify(r) });
  }
  const buf = await readFile(join(out, 'clean.lines'));
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i += 8) lines.push(`${buf.readUInt32LE(i)}:${buf.readUInt32LE(i + 4)}`);
  return { summary, rows, lines };
}

async function writeInput(dir: string, rows: readonly (readonly [string, string, number, string])[], n: number): Promise<string> {
  const path = join(dir, `in-${n}.csv`);
  await writeFile(path, `userId,event,time,n\n${rows.map((r) => [r[0], r[1], String(r[2]), r[3]].map(field).join(',')).join('\n')}\n`);
  return path;
}

describe('the canary part (transform)', () => {
  it('part 1 holds exactly the N smallest-hash users and only them, the rest follow in the same order, every row once, clean.lines aligned', async () => {
    const dir = await tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { minLength: 1, maxLength: 120, size: 'max' }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('1KB', '100MB'),
        fc.constantFrom('1KB', '64KB'),
        async (rows, canary, maxPartBytes, sortMemory) => {
          const input = await writeInput(dir, rows, ++n);
          const plain = await run(dir, `plain-${n}`, input, { canary: 0, maxPartBytes, sortMemory });
          const withCanary = await run(dir, `canary-${n}`, input, { canary, maxPartBytes, sortMemory });
          const s = withCanary.summary;
          const users = bySmallestHash(plain.rows.map((r) => r.userId)).map((x) => x.u);
          expect(s.conservation.ok).toBe(true);
          expect(s.counts).toEqual(plain.summary.counts);
          if (canary >= users.length) {
            // a canary of every user is none: the output is the plain one
            expect(s.canary.part).toBeNull();
            expect(withCanary.rows).toEqual(plain.rows);
            return;
          }
          if (s.canary.part === null) {
            // only when the first user's rows alone do not fit a part
            expect(s.canary.note).toMatch(/exceed --max-part-bytes/);
            return;
          }
          const chosen = new Set(users.slice(0, s.canary.users));
          if (maxPartBytes === '100MB') expect(s.canary.users).toBe(canary);
          else expect(s.canary.users).toBeLessThanOrEqual(canary);
          // part 1 is the canary, alone; the other parts start at 2
          expect(s.outputs.clean[0]).toMatchObject({ file: 'clean-part-001.csv', canary: true, rows: s.canary.rows });
          expect(s.outputs.clean.slice(1).every((p) => p.canary === undefined && p.file !== 'clean.csv')).toBe(true);
          expect(new Set(withCanary.rows.filter((r) => r.part === 'clean-part-001.csv').map((r) => r.userId))).toEqual(chosen);
          expect(withCanary.rows.filter((r) => chosen.has(r.userId)).every((r) => r.part === 'clean-part-001.csv')).toBe(true);
          // the rows of the plain run, canary users first, each side in its order; clean.lines moves with them
          const pick = (inCanary: boolean) =>
            plain.rows.flatMap((r, i) => (chosen.has(r.userId) === inCanary ? [{ line: r.line, origin: plain.lines[i] }] : []));
          const want = [...pick(true), ...pick(false)];
          expect(withCanary.rows.map((r) => r.line)).toEqual(want.map((w) => w.line));
          expect(withCanary.lines).toEqual(want.map((w) => w.origin));
          // parts never split a user, unless it is larger than a part (reported)
          const partsOf = new Map<string, Set<string>>();
          for (const r of withCanary.rows) partsOf.set(r.userId, (partsOf.get(r.userId) ?? new Set()).add(r.part));
          const spanning = [...partsOf].filter(([, ps]) => ps.size > 1).map(([u]) => u);
          expect(s.outputs.usersSplitAcrossParts.count).toBe(spanning.length);
          for (const u of spanning) expect(chosen.has(u)).toBe(false);
          // the cost counts add up over the parts
          expect(s.outputs.clean.reduce((a, p) => a + p.billableLookups, 0)).toBe(s.cost.billableLookups);
          // the same canary whatever the order of the input
          const shuffled = await writeInput(dir, [...rows].reverse(), ++n);
          const again = await run(dir, `again-${n}`, shuffled, { canary, maxPartBytes, sortMemory });
          expect(new Set(again.rows.filter((r) => r.part === 'clean-part-001.csv').map((r) => r.userId))).toEqual(chosen);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('with --shard, each shard picks its own canary among its own users', async () => {
    const dir = await tempDir();
    const rows = Array.from({ length: 80 }, (_, i) => [`u${i % 40}`, 'open', T - 100 - i, '1'] as const);
    const input = await writeInput(dir, rows, 1);
    for (const shard of ['0/2', '1/2']) {
      const out = await run(dir, `shard-${shard.replace('/', '-')}`, input, { canary: 3, shard });
      const mine = bySmallestHash(out.rows.map((r) => r.userId)).map((x) => x.u);
      expect(mine.length).toBeGreaterThan(3);
      expect(mine.length).toBeLessThan(40);
      expect(new Set(out.rows.filter((r) => r.part === 'clean-part-001.csv').map((r) => r.userId))).toEqual(new Set(mine.slice(0, 3)));
    }
  });

  it('--order input has no canary: --canary N is refused (exit 2), the default says why', async () => {
    const dir = await tempDir();
    const input = await writeInput(dir, [['u1', 'open', T - 10, '1']], 1);
    expect(() => buildTransformConfig({ input, out: join(dir, 'x'), order: 'input', canary: '5' }, new Date())).toThrow(
      /canary: --canary 5 needs .*--order user/,
    );
    const { summary } = await runTransform(buildTransformConfig({ input, out: join(dir, 'y'), order: 'input', importAt: IMPORT_AT }, new Date()));
    expect(summary.canary).toMatchObject({ part: null, note: expect.stringMatching(/--order input/) });
    expect(summary.outputs.clean.map((p) => p.file)).toEqual(['clean.csv']);
    expect(() => buildTransformConfig({ input, out: join(dir, 'z'), canary: '-1' }, new Date())).toThrow(/canary: expected a whole number/);
  });
});
