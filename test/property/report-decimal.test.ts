import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecimalSum, formatDecimal, groupThousands, MAX_SCALE, parseDecimal } from '../../src/events/decimal.js';

/** A decimal as the row step accepts it, with the exact value it stands for (units × 10^-scale). */
const decimalArb = fc
  .record({
    // beyond the 15-digit fast path, small, and 15 digits (whose sums soon pass 2^53 and move to BigInt)
    units: fc.oneof(
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
      fc.bigInt({ min: -1000n, max: 1000n }),
      fc.bigInt({ min: -(10n ** 15n - 1n), max: 10n ** 15n - 1n }),
    ),
    scale: fc.integer({ min: 0, max: 12 }),
    // how the same value is written: plain, with an exponent, with a leading "+", without a leading 0
    form: fc.constantFrom('plain', 'exp', 'plus', 'bare'),
    shift: fc.integer({ min: -5, max: 5 }),
  })
  .map(({ units, scale, form, shift }) => {
    const plain = formatDecimal({ units, scale });
    let text = plain;
    if (form === 'plus' && units >= 0n) text = `+${plain}`;
    if (form === 'bare') text = plain.replace(/^(-?)0\./, '$1.');
    if (form === 'exp') {
      // the same value with an exponent: (units × 10^-(scale + k)) e+k, or (units × 10^-(scale - k)) e-k
      const k = shift >= 0 ? shift : Math.min(-shift, scale);
      text = shift >= 0 ? `${formatDecimal({ units, scale: scale + k })}e${k}` : `${formatDecimal({ units, scale: scale - k })}E-${k}`;
    }
    return { text, units, scale };
  });

describe('parseDecimal', () => {
  it('reads back exactly what formatDecimal wrote, in every accepted form', () => {
    fc.assert(
      fc.property(decimalArb, ({ text, units, scale }) => {
        const d = parseDecimal(text);
        expect(d).toBeDefined();
        // same value: cross-multiply to a common scale
        const s = Math.max(d!.scale, scale);
        expect(d!.units * 10n ** BigInt(s - d!.scale)).toBe(units * 10n ** BigInt(s - scale));
      }),
    );
  });

  it('keeps the places written and reads exponents exactly', () => {
    expect(parseDecimal('12.50')).toEqual({ units: 1250n, scale: 2 });
    expect(parseDecimal('1e3')).toEqual({ units: 1000n, scale: 0 });
    expect(parseDecimal('1.5e-3')).toEqual({ units: 15n, scale: 4 });
    expect(parseDecimal('-.5')).toEqual({ units: -5n, scale: 1 });
    expect(parseDecimal('5.')).toEqual({ units: 5n, scale: 0 });
    expect(parseDecimal('12E+2')).toEqual({ units: 1200n, scale: 0 });
    for (const bad of ['', '.', '-', 'abc', '1,5', '1e', '0x10', 'NaN', 'Infinity']) expect(parseDecimal(bad)).toBeUndefined();
  });

  it(`rounds a value with more than ${MAX_SCALE} places half away from zero (Leanplum reads those as 0 anyway)`, () => {
    expect(parseDecimal('1e-400')).toEqual({ units: 0n, scale: MAX_SCALE });
    expect(parseDecimal(`5e-${MAX_SCALE + 1}`)).toEqual({ units: 1n, scale: MAX_SCALE });
    expect(parseDecimal(`-4e-${MAX_SCALE + 1}`)).toEqual({ units: -0n, scale: MAX_SCALE });
    expect(parseDecimal('1e-999999999')).toEqual({ units: 0n, scale: MAX_SCALE });
  });
});

describe('DecimalSum', () => {
  it('equals the BigInt sum of the values scaled to the most places any of them has', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(decimalArb, fc.integer({ min: 1, max: 1_000_000 })), { maxLength: 40 }), (values) => {
        const sum = new DecimalSum();
        for (const [v, times] of values) expect(sum.add(v.text, times)).toBe(true);
        const scale = Math.max(0, ...values.map(([v]) => v.scale));
        const expected = values.reduce((s, [v, times]) => s + v.units * BigInt(times) * 10n ** BigInt(scale - v.scale), 0n);
        expect(sum.value()).toEqual({ units: expected, scale });
        expect(parseDecimal(sum.toString())).toEqual({ units: expected, scale });
      }),
    );
  });

  it('0.1 + 0.2 is 0.3; a million times 0.01 is 10000.00 (added one by one and as a count)', () => {
    const a = new DecimalSum();
    a.add('0.1');
    a.add('0.2');
    expect(a.toString()).toBe('0.3');
    const b = new DecimalSum();
    for (let i = 0; i < 1_000_000; i++) b.add('0.01');
    expect(b.toString()).toBe('10000.00');
    const c = new DecimalSum();
    c.add('0.01', 1_000_000);
    expect(c.toString()).toBe('10000.00');
    const d = new DecimalSum();
    d.add('19.99', 3);
    d.add('-60');
    expect(d.toString()).toBe('-0.03');
    expect(new DecimalSum().toString()).toBe('0');
  });

  it('groups thousands without touching the digits', () => {
    expect(groupThousands('24691357802469135.78')).toBe('24,691,357,802,469,135.78');
    expect(groupThousands('-1000')).toBe('-1,000');
    expect(groupThousands('999.123456')).toBe('999.123456');
    fc.assert(
      fc.property(decimalArb, ({ units, scale }) => {
        const plain = formatDecimal({ units, scale });
        expect(groupThousands(plain).replace(/,/g, '')).toBe(plain);
      }),
    );
  });
});
