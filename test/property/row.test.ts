import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveMapping } from '../../src/input/mapping.js';
import { processRow } from '../../src/events/row.js';
import { DAY, rowOptions, specSpread, specVerdict } from '../helpers/rule.js';

const T = 1_790_000_000;
const opts = rowOptions(T, { timeFormat: 'unix-s', maxCount: 100_000 });
const { layout } = resolveMapping(['userId', 'event', 'n', 'first', 'last', 'value'], {
  map: {},
  params: [],
  countColumn: 'n',
  firstColumn: 'first',
  lastColumn: 'last',
});

describe('occurrence expansion through the row step', () => {
  it('turns rows into exactly sum(count) occurrences, spread evenly from first to last, each clamped as DESIGN.md says', () => {
    const rowArb = fc
      .record({ n: fc.integer({ min: 0, max: 300 }), first: fc.integer({ min: T - 900 * DAY, max: T }), span: fc.integer({ min: 0, max: 400 * DAY }) })
      .map((r) => ({ ...r, last: Math.min(T, r.first + r.span) }));
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 30 }), (rows) => {
        let out = 0;
        for (const r of rows) {
          const res = processRow(['u', 'open', String(r.n), String(r.first), String(r.last), '2'], layout, opts);
          if (r.n === 0) {
            expect(res).toEqual({ kind: 'dropped', reason: 'zero_count' });
            continue;
          }
          if (res.kind !== 'kept') throw new Error(`expected kept, got ${JSON.stringify(res)}`);
          expect(res.occurrences.map((o) => o.original)).toEqual(specSpread(r.first, r.last, r.n));
          for (const o of res.occurrences) expect({ kind: 'ok', time: o.time, change: o.change }).toEqual(specVerdict(o.original, opts.rule));
          out += res.occurrences.length;
        }
        expect(out).toBe(rows.reduce((s, r) => s + r.n, 0));
      }),
    );
  });
});
