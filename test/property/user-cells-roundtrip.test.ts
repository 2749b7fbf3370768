import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellText, isEmptyValue, valueProblem, valueType } from '../../src/events/user-cells.js';
import type { UserValue } from '../../src/model/user-record.js';
import { setUserAttributesJson, userLayout } from '../../src/sinks/api/actions.js';
import { splitRecords } from '../../src/sinks/api/clean-rows.js';
import { csvLine } from '../../src/transform/csv-line.js';

// The contract of the users clean CSV between its writer (events/user-cells.ts: cell text and
// column type) and its reader, the API sink (sinks/api/actions.ts): a value of a column of one type,
// written as a cell, quoted into a CSV line and read back by the sink, is sent as that same value.
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const num = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
);
const value: fc.Arbitrary<UserValue> = fc.oneof(
  text,
  num,
  fc.boolean(),
  fc.array(text, { minLength: 1, maxLength: 4 }),
  fc.array(num, { minLength: 1, maxLength: 4 }),
  fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
);

describe('users cells: written by the transform, read by the API sink', () => {
  it('property: every value that can be written comes back as the same JSON value', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 8 }), fc.array(value, { minLength: 1, maxLength: 5 }), (user, values) => {
        const kept = values.filter((v) => !isEmptyValue(v) && valueProblem(v) === undefined);
        const names = kept.map((_, i) => `a${i}`);
        const header = ['userId', ...names.map((n) => `userAttributes.${n}`)];
        const columns = kept.map((v, i) => ({ name: header[i + 1]!, type: valueType(v) }));
        const line = csvLine([user, ...kept.map((v) => cellText(v))]);
        const { records } = splitRecords(csvLine(header) + line, true);
        expect(records).toHaveLength(2);
        const sent = JSON.parse(setUserAttributesJson(userLayout(records[0]!, columns), records[1]!, 'r', 'b')) as Record<string, unknown>;
        expect(sent['userId']).toBe(user);
        expect(sent['userAttributes'] ?? {}).toEqual(Object.fromEntries(kept.map((v, i) => [names[i], v])));
      }),
    );
  });
});
