import { describe, expect, it } from 'vitest';
import { resolveMapping } from '../../src/input/mapping.js';
import { processRow } from '../../src/events/row.js';
import { DAY } from '../../src/time/clamp.js';
import { rowOptions } from '../helpers/rule.js';

const T = Date.parse('2026-11-20T00:00:00Z') / 1000;
const opts = rowOptions(T);
const { layout } = resolveMapping(['userId', 'event', 'time', 'value', 'currencyCode', 'n', 'params.level'], { map: {}, params: [], countColumn: 'n' });
const row = (o: Partial<Record<'u' | 'e' | 't' | 'v' | 'c' | 'n' | 'l', string>>) =>
  processRow([o.u ?? 'u1', o.e ?? 'purchase', o.t ?? '2026-10-01T00:00:00Z', o.v ?? '', o.c ?? '', o.n ?? '1', o.l ?? '3'], layout, opts);
const reason = (r: ReturnType<typeof processRow>) => (r.kind === 'kept' ? 'kept' : r.reason);

describe('processRow', () => {
  it('keeps a good row unchanged', () => {
    const r = row({ v: '4.99', c: 'usd' });
    expect(r).toMatchObject({ kind: 'kept', userId: 'u1', event: 'purchase', value: '4.99', currencyCode: 'USD', params: ['3'] });
    if (r.kind === 'kept')
      expect(r.occurrences).toEqual([{ time: Date.parse('2026-10-01T00:00:00Z') / 1000, original: Date.parse('2026-10-01T00:00:00Z') / 1000, change: 'none' }]);
  });

  it('gives each kind of bad row its own reason', () => {
    expect(reason(row({ u: ' ' }))).toBe('missing_user_id');
    expect(reason(row({ u: 'x'.repeat(401) }))).toBe('bad_user_id');
    expect(reason(row({ e: '' }))).toBe('missing_event');
    for (const e of ['.hidden', '-x', 'a/', 'a,b', 'a|b', 'a"b', 'a{b', 'a\tb', 'a\nb', '12345', 'x'.repeat(140)])
      expect(reason(row({ e }))).toBe('bad_event_name');
    expect(reason(row({ e: 'x'.repeat(139) }))).toBe('kept');
    expect(reason(row({ t: 'soon' }))).toBe('bad_time');
    expect(reason(row({ t: '2027-01-01T00:00:00Z' }))).toBe('future_time');
    expect(reason(row({ t: '1970-01-01T00:00:00Z' }))).toBe('implausible_time');
    expect(reason(row({ v: '1,5' }))).toBe('bad_value');
    expect(reason(row({ v: '1', c: 'EURO' }))).toBe('bad_currency');
    expect(reason(row({ c: 'EUR' }))).toBe('bad_currency');
    expect(reason(row({ n: '-1' }))).toBe('bad_count');
    expect(reason(row({ n: '1001' }))).toBe('bad_count');
    expect(processRow(['u1', 'x'], layout, opts)).toMatchObject({ kind: 'rejected', reason: 'ragged_row' });
    expect(processRow([''], layout, opts)).toEqual({ kind: 'dropped', reason: 'blank_line' });
    expect(row({ n: '0' })).toEqual({ kind: 'dropped', reason: 'zero_count' });
  });

  it('expands a count into occurrences and clamps old ones', () => {
    const r = row({ n: '3', t: '2024-01-01T00:00:00Z' });
    expect(r.kind).toBe('kept');
    if (r.kind === 'kept') {
      expect(r.occurrences).toHaveLength(3);
      for (const o of r.occurrences) expect(o).toEqual({ time: T - 360 * DAY, original: Date.parse('2024-01-01T00:00:00Z') / 1000, change: 'clamped' });
    }
  });

  it('sets a time within the future tolerance to the import time', () => {
    const r = row({ t: '2026-11-20T00:02:00Z' });
    if (r.kind !== 'kept') throw new Error('expected kept');
    expect(r.occurrences[0]).toMatchObject({ time: T, change: 'nudged' });
  });
});
