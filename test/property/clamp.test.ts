import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultRule } from '../helpers/rule.js';
import { applyTimeRule, clampTargetOf, clampTime, cutoffOf, DAY, PLATFORM_WINDOW, ruleProblems, type TimeRule } from '../../src/time/clamp.js';

const T_MIN = 1_600_000_000;
const T_MAX = 2_000_000_000;

/** Rules that pass validation: D ≤ W − A. */
const ruleArb = (mode: 'keep' | 'monotone') =>
  fc
    .record({
      importAt: fc.integer({ min: T_MIN, max: T_MAX }),
      clampAge: fc.integer({ min: 1 * DAY, max: 365 * DAY }),
      futureTolerance: fc.integer({ min: 0, max: 3600 }),
    })
    .chain((r) =>
      fc.integer({ min: 0, max: PLATFORM_WINDOW - r.clampAge }).map(
        (maxDelay): TimeRule => ({ ...r, maxDelay, window: PLATFORM_WINDOW, minTime: 946_684_800, mode }),
      ),
    );
const timeArb = fc.integer({ min: 946_684_800, max: T_MAX });

for (const mode of ['keep', 'monotone'] as const) {
  describe(`clampTime (${mode})`, () => {
    it('is accepted by ruleProblems', () => {
      fc.assert(fc.property(ruleArb(mode), (r) => {
        expect(ruleProblems(r)).toEqual([]);
      }));
    });

    it('never lands outside the window at any import moment in [T, T + D], and never after T', () => {
      fc.assert(
        fc.property(ruleArb(mode), timeArb, fc.double({ min: 0, max: 1, noNaN: true }), (r, t, frac) => {
          fc.pre(t <= r.importAt);
          const out = clampTime(t, r);
          const moments = [r.importAt, r.importAt + r.maxDelay, r.importAt + Math.floor(frac * r.maxDelay)];
          for (const i of moments) expect(out).toBeGreaterThanOrEqual(i - PLATFORM_WINDOW);
          expect(out).toBeLessThanOrEqual(r.importAt);
        }),
      );
    });

    it('is idempotent', () => {
      fc.assert(fc.property(ruleArb(mode), timeArb, (r, t) => {
        expect(clampTime(clampTime(t, r), r)).toBe(clampTime(t, r));
      }));
    });

    it('only ever moves events forward, and old ones exactly to T − A', () => {
      fc.assert(
        fc.property(ruleArb(mode), timeArb, (r, t) => {
          const out = clampTime(t, r);
          expect(out).toBeGreaterThanOrEqual(t);
          if (out !== t) expect(out).toBe(clampTargetOf(r));
        }),
      );
    });
  });
}

describe('clampTime (keep, the DESIGN.md rule)', () => {
  it('is the identity at or after the cutoff', () => {
    fc.assert(
      fc.property(ruleArb('keep'), fc.integer({ min: 0, max: 400 * DAY }), (r, back) => {
        const t = cutoffOf(r) + back;
        fc.pre(t <= r.importAt);
        expect(clampTime(t, r)).toBe(t);
      }),
    );
  });

  it('is monotone within the clamped side and within the kept side', () => {
    fc.assert(
      fc.property(ruleArb('keep'), timeArb, timeArb, (r, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        fc.pre(hi <= r.importAt && (hi < cutoffOf(r) || lo >= cutoffOf(r)));
        expect(clampTime(lo, r)).toBeLessThanOrEqual(clampTime(hi, r));
      }),
    );
  });

  it('reorders across the band [cutoff, T − A): the reason --clamp-mode monotone exists', () => {
    const r = defaultRule(1_800_000_000);
    const older = cutoffOf(r) - 1;
    const newer = cutoffOf(r);
    expect(clampTime(older, r)).toBeGreaterThan(clampTime(newer, r));
  });
});

describe('clampTime (monotone)', () => {
  it('is monotone (non-decreasing) in t', () => {
    fc.assert(
      fc.property(ruleArb('monotone'), timeArb, timeArb, (r, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(clampTime(lo, r)).toBeLessThanOrEqual(clampTime(hi, r));
      }),
    );
  });

  it('is the identity at or after the clamp target', () => {
    fc.assert(
      fc.property(ruleArb('monotone'), fc.integer({ min: 0, max: 400 * DAY }), (r, back) => {
        const t = clampTargetOf(r) + back;
        expect(clampTime(t, r)).toBe(t);
      }),
    );
  });
});

describe('applyTimeRule', () => {
  it('refuses what is implausible or beyond the tolerance, and never outputs a time after T', () => {
    fc.assert(
      fc.property(ruleArb('keep'), fc.integer({ min: 0, max: T_MAX + 10 * DAY }), (r, t) => {
        const v = applyTimeRule(t, r);
        if (t < r.minTime) expect(v.kind).toBe('implausible');
        else if (t > r.importAt + r.futureTolerance) expect(v.kind).toBe('future');
        else {
          expect(v.kind).toBe('ok');
          if (v.kind === 'ok') expect(v.time).toBeLessThanOrEqual(r.importAt);
        }
      }),
    );
  });

  it('ruleProblems refuses a delay that eats the margin (D > W − A)', () => {
    fc.assert(
      fc.property(ruleArb('keep'), fc.integer({ min: 1, max: 30 * DAY }), (r, extra) => {
        const bad = { ...r, maxDelay: PLATFORM_WINDOW - r.clampAge + extra };
        expect(ruleProblems(bad).join()).toMatch(/max-delay/);
      }),
    );
  });
});
