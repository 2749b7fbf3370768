import { describe, expect, it } from 'vitest';
import { autoEpochUnit, parseTime, parseTimeFormat } from '../../src/time/parse.js';

const secs = (iso: string) => Date.parse(iso) / 1000;
const ok = (raw: string, fmt = 'auto', zone = 'UTC') => {
  const p = parseTime(raw, parseTimeFormat(fmt), zone);
  if (!p.ok) throw new Error(p.message);
  return p;
};

describe('parseTime', () => {
  it('runs with a non-UTC local zone, so local-time mistakes show up', () => {
    expect(new Date('2026-01-15T12:00:00Z').getTimezoneOffset()).not.toBe(0);
  });

  it('reads ISO-8601 with Z and with offsets', () => {
    expect(ok('2026-03-01T10:00:00Z').seconds).toBe(secs('2026-03-01T10:00:00Z'));
    expect(ok('2026-03-01T10:00:00+02:00').seconds).toBe(secs('2026-03-01T08:00:00Z'));
    expect(ok('2026-03-01T10:00:00-0530').seconds).toBe(secs('2026-03-01T15:30:00Z'));
    expect(ok('2026-03-01 10:00:00.987+01').seconds).toBe(secs('2026-03-01T09:00:00Z'));
    expect(ok('2026-03-01T10:00:00Z').naive).toBe(false);
  });

  it('reads naive date-times in the given zone, across DST changes', () => {
    // New York: EST (−5) in January, EDT (−4) in July
    expect(ok('2026-01-10 12:00:00', 'auto', 'America/New_York').seconds).toBe(secs('2026-01-10T17:00:00Z'));
    expect(ok('2026-07-10 12:00:00', 'auto', 'America/New_York').seconds).toBe(secs('2026-07-10T16:00:00Z'));
    // Berlin, the night clocks go back (2026-10-25 03:00 CEST → 02:00 CET): 02:30 happens twice, the first is taken
    expect(ok('2026-10-25T02:30:00', 'iso', 'Europe/Berlin').seconds).toBe(secs('2026-10-25T00:30:00Z'));
    expect(ok('2026-10-25T03:30:00', 'iso', 'Europe/Berlin').seconds).toBe(secs('2026-10-25T02:30:00Z'));
    // Sydney is in DST in January (+11)
    expect(ok('2026-01-10 12:00', 'auto', 'Australia/Sydney').seconds).toBe(secs('2026-01-10T01:00:00Z'));
    expect(ok('2026-01-10 12:00:00', 'auto', 'UTC').naive).toBe(true);
    expect(ok('2026-01-10', 'auto', 'Asia/Tokyo').seconds).toBe(secs('2026-01-09T15:00:00Z'));
  });

  it('refuses a wall time that a DST change skipped', () => {
    const p = parseTime('2026-03-08 02:30:00', 'auto', 'America/New_York');
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toMatch(/does not exist in America\/New_York/);
  });

  it('reads every epoch unit exactly, including 19-digit nanoseconds', () => {
    const t = secs('2026-03-01T10:00:00Z');
    expect(ok(String(t), 'unix-s').seconds).toBe(t);
    expect(ok(`${t}.75`, 'unix-s').seconds).toBe(t);
    expect(ok(`${t}123`, 'unix-ms').seconds).toBe(t);
    expect(ok(`${t}123456`, 'unix-us').seconds).toBe(t);
    expect(ok(`${t}123456789`, 'unix-ns').seconds).toBe(t);
    expect(ok(`${t}999`, 'auto').seconds).toBe(t);
    expect(ok(`${t}999999`, 'auto').kind).toBe('unix-us');
    expect(ok(`${t}999999999`, 'auto').kind).toBe('unix-ns');
  });

  it('refuses epoch values whose unit auto cannot tell', () => {
    for (const v of ['12345678', '17000000000', '17000000000000', '17000000000000000', '1700000000000000000000']) {
      expect(autoEpochUnit(v)).toBeUndefined();
      const p = parseTime(v, 'auto', 'UTC');
      expect(p.ok).toBe(false);
      if (!p.ok) expect(p.message).toMatch(/ambiguous epoch value/);
    }
  });

  it('refuses impossible dates and garbage with a message', () => {
    for (const v of ['2026-02-30T00:00:00Z', '2026-13-01', 'yesterday', '2026-01-01T25:00:00Z', '']) {
      expect(parseTime(v, 'auto', 'UTC').ok).toBe(false);
    }
    expect(parseTime('17e8', 'unix-s', 'UTC').ok).toBe(false);
  });

  it('reads a date-fns pattern in the given zone', () => {
    expect(ok('03/11/2026 14:05', 'dd/MM/yyyy HH:mm', 'Europe/Paris').seconds).toBe(secs('2026-11-03T13:05:00Z'));
    expect(ok('03/11/2026 14:05 +0000', 'dd/MM/yyyy HH:mm xx', 'Europe/Paris').seconds).toBe(secs('2026-11-03T14:05:00Z'));
    expect(parseTime('2026-11-03', parseTimeFormat('dd/MM/yyyy'), 'UTC').ok).toBe(false);
  });
});
