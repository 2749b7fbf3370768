import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartWriter } from '../../src/transform/part-writer.js';
import { tempDir } from '../helpers/run.js';

// 50-byte rows and a 30-byte header: a 2280-byte part holds 45 rows (30 + 45 × 50 = 2280).
const HEADER = 'userId,event,time,params.note\n';
const row = (user: string, i: number) => {
  const r = `${user},open,${1_780_000_000 + i},`;
  return r + 'x'.repeat(49 - r.length) + '\n';
};

async function write(groups: boolean, users: [string, number][]) {
  const dir = await tempDir();
  const w = new PartWriter(dir, HEADER, 2280, { groups });
  const rows: string[] = [];
  let i = 0;
  for (const [user, n] of users) {
    for (let k = 0; k < n; k++) {
      const r = row(user, i++);
      rows.push(r);
      if (w.add(r, user)) await w.flush();
    }
  }
  await w.end();
  const texts = await Promise.all(w.parts.map((p) => readFile(join(dir, p.file), 'utf8')));
  return {
    w,
    rows,
    texts,
    usersOf: texts.map((t) => [
      ...new Set(
        t
          .split('\n')
          .slice(1, -1)
          .map((l) => l.split(',')[0]),
      ),
    ]),
  };
}

describe('PartWriter with groups (--order user): a part never splits a user', () => {
  it('moves a user that does not fit to the next part: 4 users × 30 rows in 45-row parts → 4 parts of 30 rows', async () => {
    expect(Buffer.byteLength(HEADER)).toBe(30);
    expect(Buffer.byteLength(row('u1', 0))).toBe(50);
    const { w, rows, texts, usersOf } = await write(true, [
      ['u1', 30],
      ['u2', 30],
      ['u3', 30],
      ['u4', 30],
    ]);
    expect(w.parts.map((p) => [p.file, p.rows, p.bytes])).toEqual([1, 2, 3, 4].map((n) => [`clean-part-00${n}.csv`, 30, 1530]));
    expect(usersOf).toEqual([['u1'], ['u2'], ['u3'], ['u4']]);
    for (const t of texts) expect(t.startsWith(HEADER)).toBe(true);
    // the rows, in the same order over the whole file: nothing lost, nothing repeated
    expect(texts.map((t) => t.slice(HEADER.length)).join('')).toBe(rows.join(''));
    expect(w.rowsWritten).toBe(120);
    expect(w.rowsMoved).toBe(45); // u2, u3 and u4 each had 15 rows in the part before
    // one user per part, 30 rows: one batch, one lookup per part
    expect(w.parts.map((p) => p.billableLookups)).toEqual([1, 1, 1, 1]);
    expect(w.lookups.total).toBe(4);
    expect(w.splitGroups.count).toBe(0);
  });

  it('without groups (--order input) the same rows fill each part: 45, 45, 30 rows, u2 in parts 1 and 2', async () => {
    const { w, usersOf } = await write(false, [
      ['u1', 30],
      ['u2', 30],
      ['u3', 30],
      ['u4', 30],
    ]);
    expect(w.parts.map((p) => p.rows)).toEqual([45, 45, 30]);
    expect(usersOf).toEqual([['u1', 'u2'], ['u2', 'u3'], ['u4']]);
    // part 1: rows 1–45, one batch of u1, u2 | part 2: rows 46–90, u2, u3 | part 3: rows 91–120, u4
    expect(w.parts.map((p) => p.billableLookups)).toEqual([2, 2, 1]);
  });

  it('splits only a user larger than a part, and reports it: 10 + 100 + 10 rows → parts of 10, 45, 45, 20', async () => {
    const { w, rows, texts, usersOf } = await write(true, [
      ['u0', 10],
      ['big', 100],
      ['u9', 10],
    ]);
    expect(w.parts.map((p) => p.rows)).toEqual([10, 45, 45, 20]);
    expect(usersOf).toEqual([['u0'], ['big'], ['big'], ['big', 'u9']]);
    expect(texts.map((t) => t.slice(HEADER.length)).join('')).toBe(rows.join(''));
    for (const p of w.parts) expect(p.bytes).toBeLessThanOrEqual(2280);
    expect(w.splitGroups).toEqual({ count: 1, sample: [{ user: 'big', firstPart: 'clean-part-002.csv', lastPart: 'clean-part-004.csv' }] });
    expect(w.rowsMoved).toBe(35);
    expect(w.parts.map((p) => p.billableLookups)).toEqual([1, 1, 1, 2]);
  });

  it('a part that starts with the first user never moves it (the first user of the file larger than a part is split in place)', async () => {
    const { w, usersOf } = await write(true, [
      ['big', 50],
      ['u1', 5],
    ]);
    expect(w.parts.map((p) => p.rows)).toEqual([45, 10]);
    expect(usersOf).toEqual([['big'], ['big', 'u1']]);
    expect(w.rowsMoved).toBe(0);
    expect(w.splitGroups.sample).toEqual([{ user: 'big', firstPart: 'clean-part-001.csv', lastPart: 'clean-part-002.csv' }]);
  });
});
