// Issue 16: a dotted path steps into a string that holds a JSON object. The same records, with
// `properties` written as an object or as a JSON string (both forms mixed in one file), give the
// same clean output, with a preset and without one.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tempDir, transformFile } from '../helpers/run.js';

const LONG = '\u0001long\u0001';
const name = fc.stringMatching(/^[a-z][a-z_]{0,5}$/);
/** A property value; a long integer is put into the JSON text as a literal (more digits than a double keeps). */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 8 }).filter((s) => !s.includes('\u0001')),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: 10n ** 16n, max: 10n ** 22n }).map((b) => `${LONG}${b}`),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(
    name,
    fc.oneof(
      fc.integer(),
      fc.string({ maxLength: 4 }).filter((s) => !s.includes('\u0001')),
    ),
    { maxKeys: 3 },
  ),
);
const propsArb = fc.record({
  amount: fc.integer({ min: 0, max: 99999 }).map((c) => (c / 100).toFixed(2)),
  rest: fc.dictionary(name, valueArb, { maxKeys: 5 }),
});
const recordArb = fc.record({
  user: fc.constantFrom('u1', 'u2', 'u3'),
  event: fc.constantFrom('open', 'buy', 'level up'),
  second: fc.integer({ min: 0, max: 86_399 }),
  props: propsArb,
  asString: fc.boolean(),
});

/** JSON text with the long-integer markers written as bare number literals. */
const jsonWithLongs = (v: unknown) => JSON.stringify(v).replace(new RegExp(`"${LONG}(\\d+)"`, 'g'), '$1');

type Rec = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

function line(r: Rec, i: number, asString: boolean): string {
  const props = jsonWithLongs({ amount: r.props.amount, ...r.props.rest });
  const time = new Date(Date.UTC(2026, 9, 1) + r.second * 1000).toISOString();
  return `{"uuid":"id-${i}","event":${JSON.stringify(r.event)},"distinct_id":"${r.user}","timestamp":"${time}","properties":${asString ? JSON.stringify(props) : props}}`;
}

describe('JSON-string properties read like objects', () => {
  it('the same records, properties as objects or as JSON strings (mixed in one file), give the same clean output', async () => {
    const dir = await tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 25 }), fc.boolean(), async (records, withPreset) => {
        run++;
        const objects = join(dir, `objects-${run}.jsonl`);
        const mixed = join(dir, `mixed-${run}.jsonl`);
        await writeFile(objects, records.map((r, i) => line(r, i, false)).join('\n') + '\n');
        await writeFile(mixed, records.map((r, i) => line(r, i, r.asString)).join('\n') + '\n');
        const opts = withPreset
          ? { preset: 'posthog', map: ['value=properties.amount'] }
          : { map: ['userId=distinct_id', 'time=timestamp', 'value=properties.amount'], paramsFrom: ['properties'] };
        const a = await transformFile(objects, { ...opts, order: 'input', out: join(dir, `a-${run}`) });
        const b = await transformFile(mixed, { ...opts, order: 'input', out: join(dir, `b-${run}`) });
        const cleanA = await readFile(join(dir, `a-${run}`, 'clean.csv'), 'utf8');
        const cleanB = await readFile(join(dir, `b-${run}`, 'clean.csv'), 'utf8');
        expect(cleanB).toBe(cleanA);
        expect(b.tally.kept).toBe(records.length);
        expect(b.clean.map((row) => row['value'])).toEqual(records.map((r) => r.props.amount));
        expect(b.summaryJson.json.paramsLeftOut).toEqual(a.summaryJson.json.paramsLeftOut);
        // long integers keep every digit in both forms
        for (const r of records)
          for (const v of Object.values(r.props.rest)) if (typeof v === 'string' && v.startsWith(LONG)) expect(cleanB).toContain(v.slice(LONG.length));
      }),
      { numRuns: 40 },
    );
  });
});
