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

/** A value split across n occurrences when the source value is the row's total. */
export function valuePerOccurrence(value: string, n: number, valueIsTotal: boolean): string {
  if (!valueIsTotal || n === 1 || value === '') return value;
  return String(Number(value) / n);
}
