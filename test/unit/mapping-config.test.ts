import { describe, expect, it } from 'vitest';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { resolveMapping, suggestColumn } from '../../src/input/mapping.js';
import { BackfillError, exitCodeOf } from '../../src/errors.js';

const catchErr = (fn: () => unknown): BackfillError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof BackfillError) return e;
    throw e;
  }
  throw new Error('expected a BackfillError');
};

describe('resolveMapping', () => {
  it('names the header it saw and suggests the closest --map', () => {
    const e = catchErr(() => resolveMapping(['visitor_id', 'event_name', 'ts'], { map: {}, params: [] }));
    expect(e.code).toBe('MISSING_COLUMN');
    expect(exitCodeOf(e.code)).toBe(2);
    expect(e.message).toContain('Header: visitor_id,event_name,ts');
    expect(e.message).toContain('--map userId=visitor_id');
    expect(e.message).toContain('--map event=event_name');
    expect(e.message).toContain('--map time=ts');
  });

  it('orders the output userId, event, time, value, currencyCode, params in input order', () => {
    const m = resolveMapping(['params.b', 'cur', 'when', 'amount', 'who', 'what', 'extra', 'x'], {
      map: { userId: 'who', event: 'what', time: 'when', value: 'amount', currencyCode: 'cur' },
      params: [{ column: 'x', name: 'renamed' }],
    });
    expect(m.outputHeader).toEqual(['userId', 'event', 'time', 'value', 'currencyCode', 'params.b', 'params.renamed']);
    expect(m.leftOut).toEqual(['extra']);
  });

  it('stops on a param name Leanplum refuses, and on more than 50 params', () => {
    expect(catchErr(() => resolveMapping(['userId', 'event', 'time', 'params.-bad'], { map: {}, params: [] })).code).toBe('BAD_HEADER');
    const many = Array.from({ length: 51 }, (_, i) => `params.p${i}`);
    expect(catchErr(() => resolveMapping(['userId', 'event', 'time', ...many], { map: {}, params: [] })).message).toMatch(/at most 50/);
  });

  it('suggests from common export names', () => {
    expect(suggestColumn('userId', ['a', 'customer_id'])).toBe('customer_id');
    expect(suggestColumn('time', ['timestmp'])).toBe('timestmp');
    expect(suggestColumn('event', ['zzz'])).toBeUndefined();
  });
});

describe('buildTransformConfig', () => {
  it('reports every problem at once', () => {
    const e = catchErr(() =>
      buildTransformConfig(
        { input: 'x', out: 'o', importAt: 'tomorrow', maxDelay: '2 days', tz: 'Mars/Base', map: ['user=uid'], maxRejectRate: 2 },
        new Date(),
      ),
    );
    expect(e.code).toBe('CONFIG_INVALID');
    for (const p of ['import-at:', 'max-delay:', 'tz:', 'map:', 'max-reject-rate:']) expect(e.message).toContain(p);
  });

  it('refuses a clamp that falls outside the safe window', () => {
    const e = catchErr(() => buildTransformConfig({ input: 'x', out: 'o', maxDelay: '6d', clampAge: '360d' }, new Date()));
    expect(e.message).toMatch(/Keep max-delay ≤ 5d/);
    expect(buildTransformConfig({ input: 'x', out: 'o', maxDelay: '5d' }, new Date()).rule.maxDelay).toBe(5 * 86400);
  });
});

describe('--time-format patterns are checked before any row', () => {
  it.each([
    ['YYYY-MM-dd', /Use `yyyy` instead of `YYYY`/],
    ['yyyy-MM-dd z', /unescaped latin alphabet character `z`/],
    ['foo', /unescaped latin alphabet character `f`/],
  ])('%s is refused as configuration (exit 2)', (pattern, why) => {
    const e = catchErr(() => buildTransformConfig({ input: 'x.csv', out: 'o', timeFormat: pattern }, new Date('2026-11-20T00:00:00Z')));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/^time-format: /m);
    expect(e.message).toMatch(why);
  });

  it.each(['dd/MM/yyyy HH:mm', 'MM/dd/yyyy h:mm a', "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"])('%s is accepted', (pattern) => {
    expect(buildTransformConfig({ input: 'x.csv', out: 'o', timeFormat: pattern }, new Date('2026-11-20T00:00:00Z')).timeFormatText).toBe(pattern);
  });
});

describe('--dedupe-key', () => {
  it('alone (without --dedupe) is refused instead of silently doing nothing', () => {
    const e = catchErr(() => buildTransformConfig({ input: 'x.csv', out: 'o', dedupeKey: 'insert_id' }, new Date('2026-11-20T00:00:00Z')));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('dedupe-key: only used with --dedupe');
    expect(buildTransformConfig({ input: 'x.csv', out: 'o', dedupeKey: 'insert_id', dedupe: true }, new Date('2026-11-20T00:00:00Z')).dedupe).toBe(true);
  });
});
