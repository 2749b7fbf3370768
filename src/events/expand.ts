/**
 * The n occurrence times of an aggregated row, spread evenly from `first` to `last` inclusive
 * (whole seconds, non-decreasing, first and last exact).
 */
export function spreadTimes(first: number, last: number, n: number): number[] {
  if (n === 1) return [first];
  const out = new Array<number>(n);
  const span = last - first;
  for (let i = 0; i < n; i++) out[i] = first + Math.floor((span * i) / (n - 1));
  return out;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal text as sign, digits and scale (value = ±digits × 10^-scale), exponent applied; undefined when not a number. */
export function readDecimal(text: string): { negative: boolean; digits: bigint; scale: number } | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let digits = BigInt((m[2] ?? '') + frac || '0');
  let scale = frac.length - Number(m[4] ?? 0);
  if (!Number.isSafeInteger(scale) || Math.abs(scale) > 400) return undefined;
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { negative: m[1] === '-', digits, scale };
}

/** ±units × 10^-scale as plain decimal text, without trailing zeros after the point ("-0" is "0"). */
export function decimalString(negative: boolean, units: bigint, scale: number): string {
  const t = units.toString().padStart(scale + 1, '0');
  const int = t.slice(0, t.length - scale);
  const frac = t.slice(t.length - scale).replace(/0+$/, '');
  return (negative && units !== 0n ? '-' : '') + (frac === '' ? int : `${int}.${frac}`);
}

/** Decimals a total is split to beyond its own: 10 over 3 → 3.33, 3.33, 3.34. */
export const SPLIT_EXTRA_DECIMALS = 2;

/**
 * --value-is-total: the row's value is the total of its n occurrences. It is split in decimal, with
 * no floating point: in units of the total's last decimal place ÷ 100 (two more decimals than the
 * total has), each occurrence gets the quotient, and the last r occurrences (r = the remainder, < n)
 * one unit more. The written values therefore add up to the total exactly, have at most two more
 * decimals than it, and differ by at most one unit of the last place: 10 over 3 → 3.33, 3.33, 3.34;
 * 1 over 3 → 0.33, 0.33, 0.34; 0.1 over 3 → 0.033, 0.033, 0.034; 9.99 over 7 → 1.4271 ×4, 1.4272 ×3.
 * Values are written without trailing zeros (10 over 4 → 2.5). `last` is absent when all are equal.
 */
export function splitTotal(total: string, n: number): { value: string; last?: { from: number; value: string } } {
  const d = readDecimal(total);
  if (d === undefined || n <= 1) return { value: total };
  const scale = d.scale + SPLIT_EXTRA_DECIMALS;
  const units = d.digits * 10n ** BigInt(SPLIT_EXTRA_DECIMALS);
  const count = BigInt(n);
  const base = units / count;
  const r = Number(units % count);
  const value = decimalString(d.negative, base, scale);
  return r === 0 ? { value } : { value, last: { from: n - r, value: decimalString(d.negative, base + 1n, scale) } };
}

/** The value each occurrence is written with (i from 0): the split of a total, or the value as it is. */
export function valuePerOccurrence(value: string, n: number, valueIsTotal: boolean, i = 0): string {
  if (!valueIsTotal || n === 1 || value === '') return value;
  const s = splitTotal(value, n);
  return s.last !== undefined && i >= s.last.from ? s.last.value : s.value;
}
