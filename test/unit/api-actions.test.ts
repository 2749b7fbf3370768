import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvLine } from '../../src/transform/csv-line.js';
import { cleanLayout, trackAction, trackActionJson } from '../../src/sinks/api/actions.js';
import { type CleanRow, cleanRows, splitRecords } from '../../src/sinks/api/clean-rows.js';
import { sample, tempDir, transformFile } from '../helpers/run.js';

async function readAll(dir: string, parts: string[], chunkBytes?: number): Promise<{ header: string[]; rows: CleanRow[] }> {
  let header: string[] = [];
  const rows: CleanRow[] = [];
  for await (const chunk of cleanRows(dir, parts, (h) => (header = h), chunkBytes === undefined ? {} : { chunkBytes })) rows.push(...chunk);
  return { header, rows };
}

function lineIndex(entries: [number, number][]): Buffer {
  const b = Buffer.alloc(entries.length * 8);
  entries.forEach(([f, l], i) => {
    b.writeUInt32LE(f, i * 8);
    b.writeUInt32LE(l, i * 8 + 4);
  });
  return b;
}

describe('track actions from clean rows', () => {
  const header = ['userId', 'event', 'time', 'value', 'currencyCode', 'params.level', 'params.code'];
  const l = cleanLayout(header);

  it('says exactly what the row says: numbers for time and value, params as written, empty cells sent as nothing', () => {
    expect(trackAction(l, ['u1', 'purchase', '1700000000.5', '4.99', 'EUR', '7', '007'], 'r', 'b')).toEqual({
      action: 'track',
      userId: 'u1',
      event: 'purchase',
      time: 1700000000.5,
      value: 4.99,
      currencyCode: 'EUR',
      params: { level: '7', code: '007' },
      reqId: 'r',
      uuid: 'b',
    });
    const bare = trackAction(l, ['u1', 'open', '1700000000', '', '', '', 'x'], 'r', 'b');
    expect(bare).toEqual({ action: 'track', userId: 'u1', event: 'open', time: 1700000000, params: { code: 'x' }, reqId: 'r', uuid: 'b' });
    // the documented order of the fields
    expect(Object.keys(trackAction(l, ['u1', 'e', '1', '2', 'USD', '', ''], 'r', 'b'))).toEqual([
      'action',
      'userId',
      'event',
      'time',
      'value',
      'currencyCode',
      'params',
      'reqId',
      'uuid',
    ]);
  });

  it('the JSON written straight from the fields is JSON.stringify of the action object', () => {
    const num = fc.oneof(fc.constant(''), fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.integer().map(String));
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
        num,
        fc.string(),
        fc.string(),
        fc.string(),
        fc.string(),
        (u, e, t, v, c, p1, p2, id) => {
          const f = [u, e, t, v, c, p1, p2];
          expect(trackActionJson(l, f, id, 'b')).toBe(JSON.stringify(trackAction(l, f, id, 'b')));
        },
      ),
    );
  });

  it('refuses a header or row lp-backfill does not write', () => {
    expect(() => cleanLayout(['userId', 'event', 'ts'])).toThrow(/clean CSV header/);
    expect(() => trackAction(l, ['u1', 'e'], 'r', 'b')).toThrow(/2 fields/);
    expect(() => trackAction(l, ['u1', 'e', 'soon', '', '', '', ''], 'r', 'b')).toThrow(/epoch seconds/);
  });

  it('the record splitter reads what csvLine writes, however the text is cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', 'é', ' ') }), { minLength: 1, maxLength: 4 }), { maxLength: 8 }),
        fc.nat(),
        (recs, cut) => {
          const text = recs.map((r) => csvLine(r)).join('');
          const at = text.length === 0 ? 0 : cut % (text.length + 1);
          const a = splitRecords(text.slice(0, at), false);
          const b = splitRecords(text.slice(a.rest), true);
          // a single empty field is written as an empty line; read back as one empty field
          expect([...a.records, ...b.records]).toEqual(recs);
        },
      ),
    );
  });

  it('any text in a param survives CSV quoting and comes back as the same JSON string', async () => {
    const dir = await tempDir();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ minLength: 1 }), fc.string(), fc.integer({ min: 946_684_800, max: 2_000_000_000 }), fc.string()), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 64 }),
        async (rows, chunkBytes) => {
          const h = ['userId', 'event', 'time', 'params.p'];
          await writeFile(join(dir, 'clean.csv'), csvLine(h) + rows.map(([u, e, t, p]) => csvLine([u, e, String(t), p])).join(''));
          await writeFile(join(dir, 'clean.lines'), lineIndex(rows.map((_, i) => [0, i + 2])));
          const read = await readAll(dir, ['clean.csv'], chunkBytes);
          expect(read.header).toEqual(h);
          const lay = cleanLayout(read.header);
          const actions = read.rows.map((r) => trackAction(lay, r.fields, '', ''));
          expect(actions.map((a) => [a.userId, a.event, a.time, a.params['p'] ?? ''])).toEqual(rows);
          expect(read.rows.map((r) => [r.index, r.file, r.line])).toEqual(rows.map((_, i) => [i, 0, i + 2]));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a transformed sample: one action per clean row, fields equal to the clean CSV, source lines from clean.lines', async () => {
    const t = await transformFile(sample('mobile-game.csv'), { order: 'user' });
    const { header, rows } = await readAll(t.out, ['clean.csv']);
    expect(rows).toHaveLength(t.clean.length);
    const lay = cleanLayout(header);
    rows.forEach((r, i) => {
      const a = trackAction(lay, r.fields, '', '');
      const c = t.clean[i]!;
      expect([a.userId, a.event, String(a.time), a.value === undefined ? '' : String(a.value)]).toEqual([c['userId'], c['event'], c['time'], c['value']]);
      for (const [k, v] of Object.entries(c)) if (k.startsWith('params.')) expect(a.params[k.slice(7)] ?? '').toBe(v);
      expect(r.file).toBe(0);
      expect(r.line).toBeGreaterThan(1);
    });
  });

  it('clean.lines shorter or longer than the rows is a damaged run directory', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'clean.csv'), 'userId,event,time\na,b,1\nc,d,2\n');
    await writeFile(join(dir, 'clean.lines'), lineIndex([[0, 2]]));
    await expect(readAll(dir, ['clean.csv'])).rejects.toThrow(/one entry per clean row/);
    await writeFile(
      join(dir, 'clean.lines'),
      lineIndex([
        [0, 2],
        [0, 3],
        [0, 4],
      ]),
    );
    await expect(readAll(dir, ['clean.csv'])).rejects.toThrow(/one entry per clean row/);
  });
});
