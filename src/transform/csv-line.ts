// Hand-written rather than csv-stringify: quoting is four lines, and csv-stringify's per-record
// option handling cost ~40% of the whole transform in the benchmark (see README, Benchmark).
const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180: quote a field holding a comma, quote or line break; double inner quotes. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvLine(fields: readonly string[]): string {
  let s = '';
  for (let i = 0; i < fields.length; i++) s += (i === 0 ? '' : ',') + csvField(fields[i]!);
  return s + '\n';
}

/** Appends `,field` for each field, and counts how many needed quoting (for the report). */
export function csvTail(fields: readonly string[], counter: { quoted: number }): string {
  let s = '';
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (NEEDS_QUOTES.test(f)) {
      counter.quoted++;
      s += `,"${f.replaceAll('"', '""')}"`;
    } else s += ',' + f;
  }
  return s;
}
