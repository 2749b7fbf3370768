import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvLine } from '../../src/transform/csv-line.js';

describe('csvLine', () => {
  it('writes RFC 4180 that csv-parse reads back to the same fields', () => {
    const field = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(',', '"', '\n', '\r', 'a', ' ', 'é', '😀') }));
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 6 }), { minLength: 1, maxLength: 20 }), (rows) => {
        const width = rows[0]!.length;
        const rect = rows.map((r) => Array.from({ length: width }, (_, i) => r[i] ?? ''));
        const text = rect.map(csvLine).join('');
        expect(parse(text, { relax_column_count: false })).toEqual(rect);
      }),
    );
  });
});
