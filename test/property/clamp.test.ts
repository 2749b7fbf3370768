import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { applyTimeRule, clampTime, ruleProblems, type ClampMode, type TimeRule } from '../../src/time/clamp.js';
import { DAY, defaultRule, MIN_TIME_2000, specAccepts, specVerdict, toRule, W, type SpecRule, type SpecVerdict } from '../helpers/rule.js';

// The oracle (test/helpers/rule.ts) is DESIGN.md with literal numbers; the implementation's own
// window, cutoff and clamp target are never used to decide what is expected.

const MODES: readonly ClampMode[] = ['keep', 'monotone'];

/**
 * Rules DESIGN.md allows (D ≤ W − A), with the edges (D = 0, D = W − A, no tolerance) drawn often.
 * A < W: a clamp age of the whole window (A = W, then only D = 0) is refused since the front-door
 * review (clamped events would be 365 days old the moment Leanplum reads them); drawn as often as
 * any other age, it made a seed or two of these properties fail.
 */
const specArb = (mode: ClampMode): fc.Arbitrary<SpecRule> =>
  fc
    .record({
      importAt: fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }),
      clampAge: fc.oneof(fc.integer({ min: 1, max: W - 1 }), fc.constantFrom(31_104_000, W - 1, 1)),
      futureTolerance: fc.oneof(fc.constantFrom(0, 1, 300), fc.integer({ min: 0, max: 3600 })),
    })
    .chain((r) =>
      fc
        .record({
          maxDelay: fc.oneof(fc.constantFrom(0, W - r.clampAge, 172_800 <= W - r.clampAge ? 172_800 : 0), fc.integer({ min: 0, max: W - r.clampAge })),
          minTime: fc.oneof(fc.constant(MIN_TIME_2000), fc.integer({ min: r.importAt - 3 * W, max: r.importAt - 1 })),
        })
        .map((rest): SpecRule => ({ ...r, ...rest, mode })),
    );

/** The instants where the rule changes its answer, computed from the text. */
const boundaries = (s: SpecRule) => ({
  cutoff: s.importAt + s.maxDelay - W,
  clampTarget: s.importAt - s.clampAge,
  importAt: s.importAt,
  toleranceEnd: s.importAt + s.futureTolerance,
  minTime: s.minTime,
});
type Boundary = keyof ReturnType<typeof boundaries>;
const BOUNDARY_NAMES: readonly Boundary[] = ['cutoff', 'clampTarget', 'importAt', 'toleranceEnd', 'minTime'];

/** Times exactly on or one second either side of a boundary about half the time; anywhere otherwise. */
const timeArb = (s: SpecRule): fc.Arbitrary<number> =>
  fc.oneof(
    fc.tuple(fc.constantFrom(...BOUNDARY_NAMES), fc.integer({ min: -1, max: 1 })).map(([b, d]) => boundaries(s)[b] + d),
    fc.integer({ min: s.minTime - DAY, max: s.importAt + s.futureTolerance + DAY }),
    fc.integer({ min: 0, max: 2_100_000_000 }),
  );

const caseArb = (mode: ClampMode) => specArb(mode).chain((s) => fc.tuple(fc.constant(s), fc.array(timeArb(s), { minLength: 1, maxLength: 16 })));

const okTime = (t: number, r: TimeRule): number => {
  const v = applyTimeRule(t, r);
  if (v.kind !== 'ok') throw new Error(`expected ${t} to be kept, got ${v.kind}`);
  return v.time;
};

for (const mode of MODES) {
  describe(`applyTimeRule (${mode}) against DESIGN.md`, () => {
    it('gives the verdict, time and change the text gives, on and around every boundary', () => {
      fc.assert(
        fc.property(caseArb(mode), ([s, times]) => {
          for (const t of times) expect(applyTimeRule(t, toRule(s)), `t = ${t}`).toEqual(specVerdict(t, s));
        }),
      );
    });

    it('nudges a time within the future tolerance to exactly T, and refuses one a second later', () => {
      fc.assert(
        fc.property(specArb(mode), fc.nat(), (s, k) => {
          const r = toRule(s);
          if (s.futureTolerance > 0) {
            const t = s.importAt + 1 + (k % s.futureTolerance);
            expect(applyTimeRule(t, r)).toEqual({ kind: 'ok', time: s.importAt, change: 'nudged' });
          }
          expect(applyTimeRule(s.importAt + s.futureTolerance, r)).toEqual(
            s.futureTolerance === 0 ? { kind: 'ok', time: s.importAt, change: 'none' } : { kind: 'ok', time: s.importAt, change: 'nudged' },
          );
          expect(applyTimeRule(s.importAt + s.futureTolerance + 1, r)).toEqual({ kind: 'future' });
          expect(applyTimeRule(s.importAt, r)).toEqual({ kind: 'ok', time: s.importAt, change: 'none' });
        }),
      );
    });

    it('never writes a time outside the window at any import moment I in [T, T + D], nor after T', () => {
      fc.assert(
        fc.property(caseArb(mode), fc.double({ min: 0, max: 1, noNaN: true }), ([s, times], frac) => {
          const r = toRule(s);
          const moments = [s.importAt, s.importAt + s.maxDelay, s.importAt + Math.floor(frac * s.maxDelay)];
          for (const t of times) {
            const v = applyTimeRule(t, r);
            if (v.kind !== 'ok') continue;
            for (const i of moments) expect(v.time).toBeGreaterThanOrEqual(i - W);
            expect(v.time).toBeLessThanOrEqual(s.importAt);
          }
        }),
      );
    });

    it('is idempotent', () => {
      fc.assert(
        fc.property(caseArb(mode), ([s, times]) => {
          const r = toRule(s);
          for (const t of times) {
            const v = applyTimeRule(t, r);
            if (v.kind === 'ok') expect(applyTimeRule(v.time, r)).toEqual({ kind: 'ok', time: v.time, change: 'none' });
          }
        }),
      );
    });

    it('is accepted by ruleProblems exactly when DESIGN.md allows it (D ≤ W − A)', () => {
      fc.assert(
        fc.property(specArb(mode), fc.integer({ min: -2, max: 2 }), (s, extra) => {
          const edge = { ...s, maxDelay: W - s.clampAge + extra };
          for (const r of [s, edge]) {
            if (specAccepts(r)) expect(ruleProblems(toRule(r))).toEqual([]);
            else expect(ruleProblems(toRule(r)).join('\n')).toMatch(/max-delay/);
          }
        }),
      );
    });
  });
}

describe('keep mode: the two sides of the cutoff', () => {
  it('is the identity from the cutoff to T', () => {
    fc.assert(
      fc.property(specArb('keep'), fc.nat(), (s, k) => {
        const cutoff = s.importAt + s.maxDelay - W;
        const t = cutoff + (k % (s.importAt - cutoff + 1));
        fc.pre(t >= s.minTime);
        expect(applyTimeRule(t, toRule(s))).toEqual({ kind: 'ok', time: t, change: 'none' });
      }),
    );
  });

  it('is monotone within the clamped side and within the kept side', () => {
    fc.assert(
      fc.property(caseArb('keep'), ([s, times]) => {
        const r = toRule(s);
        const cutoff = s.importAt + s.maxDelay - W;
        const ok = times.filter((t) => t >= s.minTime && t <= s.importAt + s.futureTolerance).sort((a, b) => a - b);
        for (const side of [ok.filter((t) => t < cutoff), ok.filter((t) => t >= cutoff)]) {
          for (let i = 1; i < side.length; i++) expect(okTime(side[i - 1]!, r)).toBeLessThanOrEqual(okTime(side[i]!, r));
        }
      }),
    );
  });

  it('reorders across the band [cutoff, T − A): the reason --clamp-mode monotone exists', () => {
    const r = defaultRule(1_800_000_000);
    expect(clampTime(1_768_636_799, r)).toBe(1_768_896_000);
    expect(clampTime(1_768_636_800, r)).toBe(1_768_636_800);
  });
});

describe('monotone mode', () => {
  it('is monotone (non-decreasing) in t everywhere', () => {
    fc.assert(
      fc.property(caseArb('monotone'), ([s, times]) => {
        const r = toRule(s);
        const ok = times.filter((t) => t >= s.minTime && t <= s.importAt + s.futureTolerance).sort((a, b) => a - b);
        for (let i = 1; i < ok.length; i++) expect(okTime(ok[i - 1]!, r)).toBeLessThanOrEqual(okTime(ok[i]!, r));
      }),
    );
  });
});

// T = 1 800 000 000 (2027-01-15T08:00:00Z), D = 2d, A = 360d, tolerance 5 min, min time 2000-01-01:
// cutoff = T + 172 800 − 31 536 000 = 1 768 636 800; T − A = T − 31 104 000 = 1 768 896 000.
const T = 1_800_000_000;
const EXPECTED: readonly [mode: ClampMode, t: number, verdict: SpecVerdict][] = [
  ['keep', 1_768_636_800, { kind: 'ok', time: 1_768_636_800, change: 'none' }], // on the cutoff: kept
  ['keep', 1_768_636_799, { kind: 'ok', time: 1_768_896_000, change: 'clamped' }], // a second older: to T − A
  ['keep', 1_768_636_801, { kind: 'ok', time: 1_768_636_801, change: 'none' }],
  ['keep', 1_768_895_999, { kind: 'ok', time: 1_768_895_999, change: 'none' }],
  ['monotone', 1_768_895_999, { kind: 'ok', time: 1_768_896_000, change: 'clamped' }],
  ['monotone', 1_768_896_000, { kind: 'ok', time: 1_768_896_000, change: 'none' }],
  ['monotone', 1_768_636_799, { kind: 'ok', time: 1_768_896_000, change: 'clamped' }],
  ['keep', 1_800_000_000, { kind: 'ok', time: 1_800_000_000, change: 'none' }],
  ['keep', 1_800_000_001, { kind: 'ok', time: 1_800_000_000, change: 'nudged' }],
  ['keep', 1_800_000_300, { kind: 'ok', time: 1_800_000_000, change: 'nudged' }], // T + tolerance: nudged
  ['monotone', 1_800_000_300, { kind: 'ok', time: 1_800_000_000, change: 'nudged' }],
  ['keep', 1_800_000_301, { kind: 'future' }],
  ['keep', 946_684_800, { kind: 'ok', time: 1_768_896_000, change: 'clamped' }], // min time itself is plausible
  ['keep', 946_684_799, { kind: 'implausible' }],
  ['keep', 0, { kind: 'implausible' }],
];

describe('the default rule, literal examples', () => {
  it('matches the worked numbers for a rule object', () => {
    for (const [mode, t, verdict] of EXPECTED) expect(applyTimeRule(t, defaultRule(T, { mode })), `${mode} ${t}`).toEqual(verdict);
  });
});

// The rule the CLI actually runs is built by the config step, which supplies the platform window:
// only here would a wrong window (or a wrong default) show.
describe('the rule built from options', () => {
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const build = (s: SpecRule) =>
    buildTransformConfig(
      {
        input: 'in.csv',
        out: 'out',
        importAt: iso(s.importAt),
        maxDelay: `${s.maxDelay}s`,
        clampAge: `${s.clampAge}s`,
        futureTolerance: `${s.futureTolerance}s`,
        minTime: iso(s.minTime),
        clampMode: s.mode,
      },
      // the real clock at T: the oracle below judges future rows against T alone
      new Date(s.importAt * 1000),
    ).rule;

  it('uses the defaults DESIGN.md names (D = 2d, A = 360d, 5 min, 2000-01-01, keep) and T = now', () => {
    const rule = buildTransformConfig({ input: 'in.csv', out: 'out' }, new Date(T * 1000)).rule;
    for (const [mode, t, verdict] of EXPECTED) if (mode === 'keep') expect(applyTimeRule(t, rule), `${t}`).toEqual(verdict);
    const monotone = buildTransformConfig({ input: 'in.csv', out: 'out', clampMode: 'monotone' }, new Date(T * 1000)).rule;
    for (const [mode, t, verdict] of EXPECTED) if (mode === 'monotone') expect(applyTimeRule(t, monotone), `${t}`).toEqual(verdict);
  });

  for (const mode of MODES) {
    it(`agrees with DESIGN.md for any allowed options (${mode})`, () => {
      fc.assert(
        fc.property(caseArb(mode), ([s, times]) => {
          const rule = build(s);
          for (const t of times) expect(applyTimeRule(t, rule), `t = ${t}`).toEqual(specVerdict(t, s));
        }),
        { numRuns: 50 },
      );
    });
  }

  it('accepts D = W − A and refuses D = W − A + 1 s', () => {
    fc.assert(
      fc.property(specArb('keep'), (s) => {
        expect(() => build({ ...s, maxDelay: W - s.clampAge })).not.toThrow();
        expect(() => build({ ...s, maxDelay: W - s.clampAge + 1 })).toThrow(/max-delay/);
      }),
      { numRuns: 50 },
    );
  });
});

// Issue "Front door": an --import-at ahead of the real clock (allowed up to --max-delay) must not
// let rows from the future in: they are judged against the earlier of T and the clock.
describe('future rows with an import time ahead of the real clock', () => {
  it('a row is future exactly when it is after min(T, clock) + tolerance; nothing else changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
        fc.integer({ min: 0, max: 2 * DAY }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: -3 * DAY, max: 3 * DAY }),
        (clock, ahead, tolerance, offset) => {
          const importAt = clock + ahead;
          const rule: TimeRule = { ...defaultRule(importAt), futureTolerance: tolerance, clock };
          const t = clock + offset;
          const v = applyTimeRule(t, rule);
          if (t > Math.min(importAt, clock) + tolerance) expect(v).toEqual({ kind: 'future' });
          else expect(v).toEqual(applyTimeRule(t, { ...rule, clock: undefined }));
          // an import time more than max-delay ahead is refused outright
          expect(ruleProblems({ ...rule, importAt: clock + rule.maxDelay + 1 }).some((p) => p.startsWith('import-at:'))).toBe(true);
          expect(ruleProblems(rule).some((p) => p.startsWith('import-at:'))).toBe(ahead > rule.maxDelay);
        },
      ),
    );
  });
});
