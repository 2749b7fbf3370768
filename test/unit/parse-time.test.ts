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
    expect(ok('03/11/2026 14:05', 'dd/MM/yyyy HH:mm', 'Europe/Paris').seconds).toBe(1_793_711_100); // 13:05Z
    expect(ok('03/11/2026 14:05 +0000', 'dd/MM/yyyy HH:mm xx', 'Europe/Paris').seconds).toBe(1_793_714_700); // 14:05Z
    expect(ok('03/11/2026 14:05', 'dd/MM/yyyy HH:mm', 'Europe/Paris').naive).toBe(true);
    expect(ok('03/11/2026 14:05 +0000', 'dd/MM/yyyy HH:mm xx', 'Europe/Paris').naive).toBe(false);
    expect(parseTime('2026-11-03', parseTimeFormat('dd/MM/yyyy'), 'UTC').ok).toBe(false);
  });
});

// Expected values are literal epoch seconds (checked with `date -u -d … +%s`), not computed by the
// code under test. New York 2026: clocks skip 02:00–03:00 on 03-08, repeat 01:00–02:00 on 11-01.
describe('a date-fns pattern follows the same zone rules as ISO', () => {
  const NY = 'America/New_York';
  const PATTERN = 'yyyy-MM-dd HH:mm';

  it('refuses a wall time skipped by DST, with the same reason as the ISO path', () => {
    const viaPattern = parseTime('2026-03-08 02:30', parseTimeFormat(PATTERN), NY);
    const viaIso = parseTime('2026-03-08 02:30', 'iso', NY);
    expect(viaPattern.ok).toBe(false);
    expect(viaIso.ok).toBe(false);
    if (!viaPattern.ok && !viaIso.ok) {
      expect(viaPattern.message).toBe('"2026-03-08 02:30" does not exist in America/New_York (skipped by a daylight-saving change)');
      expect(viaPattern.message).toBe(viaIso.message);
    }
    expect(parseTime('08/03/2026 02:00', parseTimeFormat('dd/MM/yyyy HH:mm'), NY).ok).toBe(false);
    expect(parseTime('08/03/2026 02:59:59', parseTimeFormat('dd/MM/yyyy HH:mm:ss'), NY).ok).toBe(false);
  });

  it('reads the minutes either side of the gap', () => {
    expect(ok('2026-03-08 01:59', PATTERN, NY).seconds).toBe(1_772_953_140); // 06:59Z, EST
    expect(ok('2026-03-08 03:00', PATTERN, NY).seconds).toBe(1_772_953_200); // 07:00Z, EDT
  });

  it('takes the earlier instant of a repeated wall time, like the ISO path', () => {
    expect(ok('2026-11-01 01:30', PATTERN, NY).seconds).toBe(1_793_511_000); // 05:30Z, EDT (not 06:30Z, EST)
    expect(ok('2026-11-01 01:30', 'iso', NY).seconds).toBe(1_793_511_000);
    expect(ok('25.10.2026 02:30', 'dd.MM.yyyy HH:mm', 'Europe/Berlin').seconds).toBe(1_792_888_200); // 00:30Z, CEST
  });

  it('does not read the machine zone (TZ is New York here) when --tz is UTC', () => {
    expect(ok('2026-03-08 02:30', PATTERN, 'UTC').seconds).toBe(1_772_937_000);
  });

  it('takes an explicit offset over the zone, even at a wall time the zone skips', () => {
    expect(ok('2026-03-08T02:30-05:00', "yyyy-MM-dd'T'HH:mmXXX", NY).seconds).toBe(1_772_955_000); // 07:30Z
    expect(ok('2026-03-08T02:30-0500', "yyyy-MM-dd'T'HH:mmxx", NY).seconds).toBe(1_772_955_000);
    expect(ok('2026-03-08T02:30Z', "yyyy-MM-dd'T'HH:mmX", NY).seconds).toBe(1_772_937_000);
    expect(ok('2026-03-08T02:30-05', "yyyy-MM-dd'T'HH:mmX", NY).seconds).toBe(1_772_955_000);
    expect(ok('2026-03-01 10:00 +05:30', 'yyyy-MM-dd HH:mm XXX', NY).seconds).toBe(1_772_339_400); // 04:30Z
  });

  it('reads an epoch pattern as an instant, whatever the zone', () => {
    expect(ok('1772937000', 't', NY)).toMatchObject({ seconds: 1_772_937_000, naive: false });
  });
});

describe('UTC offsets: ISO and patterns accept and refuse the same ones', () => {
  // 2026-03-01T10:00 at each offset
  const accepted: [string, number][] = [
    ['+00:00', 1_772_359_200],
    ['+05:30', 1_772_339_400],
    ['+05:59', 1_772_337_660],
    ['+14:00', 1_772_308_800], // Pacific/Kiritimati, the easternmost
    ['-12:00', 1_772_402_400],
    ['-14:00', 1_772_409_600],
  ];
  const refused = ['+05:99', '+05:60', '-03:75', '+14:01', '+15:00', '-14:30', '+18:00', '+23:59', '+99:00'];

  it('accepts the offsets zones use, to the second', () => {
    for (const [off, expected] of accepted) {
      expect(ok(`2026-03-01T10:00:00${off}`, 'iso').seconds, off).toBe(expected);
      expect(ok(`2026-03-01T10:00:00${off.replace(':', '')}`, 'iso').seconds, off).toBe(expected);
      expect(ok(`2026-03-01T10:00:00${off}`, "yyyy-MM-dd'T'HH:mm:ssXXX").seconds, off).toBe(expected);
      expect(ok(`2026-03-01 10:00 ${off.replace(':', '')}`, 'yyyy-MM-dd HH:mm xx').seconds, off).toBe(expected);
    }
  });

  it('refuses minutes past 59 and anything beyond ±14:00', () => {
    const refusedBy = (raw: string, fmt: string) => {
      const p = parseTime(raw, parseTimeFormat(fmt), 'UTC');
      return p.ok ? `accepted as ${p.seconds}` : p.message;
    };
    for (const off of refused) {
      const basic = off.replace(':', '');
      expect(refusedBy(`2026-03-01T10:00:00${off}`, 'iso')).toMatch(/impossible UTC offset/);
      expect(refusedBy(`2026-03-01T10:00:00${basic}`, 'auto')).toMatch(/impossible UTC offset/);
      expect(refusedBy(`2026-03-01T10:00:00${off}`, "yyyy-MM-dd'T'HH:mm:ssXXX")).toMatch(/impossible UTC offset/);
      expect(refusedBy(`2026-03-01 10:00 ${basic}`, 'yyyy-MM-dd HH:mm xx')).toMatch(/impossible UTC offset/);
      expect(refusedBy(`2026-03-01 10:00 ${off}`, 'yyyy-MM-dd HH:mm xxxxx')).toMatch(/impossible UTC offset/);
    }
    expect(refusedBy('2026-03-01T10:00:00+15', "yyyy-MM-dd'T'HH:mm:ssX")).toMatch(/impossible UTC offset \+15/);
    expect(refusedBy('2026-03-01T10:00:00+15', 'iso')).toMatch(/impossible UTC offset \+15/);
    expect(refusedBy('2026-03-01 10:00 +05:30:60', 'yyyy-MM-dd HH:mm XXXXX')).toMatch(/impossible UTC offset/);
  });
});
