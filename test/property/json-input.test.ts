// Properties of the JSON input side, against oracles written here from the specs, not from the
// implementation: JSON Lines (a line ends at LF, CRLF tolerated) and Leanplum's parameter-name
// rules (LEANPLUM-API.md: 1–139 characters, not starting with . or -, not ending with /, none of
// , | " { tab newline, not purely numeric).
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { parseJson, stringifyJson, type JsonObject, type JsonValue } from '../../src/input/json/json-text.js';
import { NdjsonSplitter } from '../../src/input/json/ndjson-reader.js';
import { JsonProjection } from '../../src/presets/projection.js';

/** Leanplum's name rules, restated from the document. */
function leanplumAccepts(name: string): boolean {
  if (name.length < 1 || name.length > 139) return false;
  if (name.startsWith('.') || name.startsWith('-') || name.endsWith('/')) return false;
  for (const c of [',', '|', '"', '{', '\t', '\n', '\r']) if (name.includes(c)) return false;
  return !/^\d+(\.\d+)?$/.test(name);
}

const objectArb = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });

describe('NDJSON reader', () => {
  test.prop([
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: objectArb.map((o) => ({ kind: 'object' as const, o })) },
        { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t  ').map((b) => ({ kind: 'blank' as const, b })) },
      ),
      { maxLength: 40 },
    ),
    fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 40, maxLength: 40 }),
    fc.boolean(),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
  ])('every physical line comes out once, with its number, and each object reads back equal', (lines, endings, finalBreak, cuts) => {
    const texts = lines.map((l) => (l.kind === 'object' ? JSON.stringify(l.o) : l.b));
    const doc = texts.map((t, i) => t + (i < texts.length - 1 || finalBreak ? endings[i]! : '')).join('');
    const bytes = Buffer.from(doc);
    const got: [string, number][] = [];
    const s = new NdjsonSplitter(
      (t, l) => got.push([t, l]),
      () => expect.unreachable('no line is too large here'),
      1 << 20,
    );
    for (let at = 0, i = 0; at < bytes.length; i++) {
      const n = cuts[i % cuts.length]!;
      s.write(bytes.subarray(at, at + n));
      at += n;
    }
    s.end();
    // an empty last line without a break is no line at all (nothing was written for it)
    const expected = texts.map((t, i) => [t, i + 1] as [string, number]).filter((_, i) => !(i === texts.length - 1 && !finalBreak && texts[i] === ''));
    expect(got).toEqual(expected);
    for (const [t, i] of got) {
      const l = lines[i - 1]!;
      if (l.kind === 'object') {
        const p = parseJson(t);
        expect(p.ok).toBe(true);
        expect(stringifyJson((p as { value: JsonValue }).value)).toBe(JSON.stringify(l.o));
      }
    }
  });
});

/** Every leaf of an object with a value that writes as text (the oracle for flattening). */
function leaves(o: JsonObject, prefix = '', out: [string, string][] = []): [string, string][] {
  for (const [k, v] of Object.entries(o)) {
    const name = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) leaves(v, name, out);
    else {
      const text = v === null ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      if (text !== '') out.push([name, text]);
    }
  }
  return out;
}

const keyArb = fc.oneof(fc.constantFrom('plan', 'level', 'a', 'x.y', '2024', '-x', 'a,b', '', 'c/', '{k', 'é', ' '), fc.string({ maxLength: 5 }));
const valueArb = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
const propsArb: fc.Arbitrary<JsonObject> = fc.letrec<{ obj: JsonObject }>((tie) => ({
  obj: fc.dictionary(
    keyArb,
    fc.oneof({ weight: 4, arbitrary: valueArb as fc.Arbitrary<JsonValue> }, { weight: 1, arbitrary: tie('obj') as fc.Arbitrary<JsonValue> }),
    { maxKeys: 8, depthIdentifier: 'props' } as never,
  ),
})).obj;
const wideArb = fc
  .integer({ min: 45, max: 60 })
  .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${String(i).padStart(2, '0')}`, i])) as JsonObject);

describe('flattening into parameters', () => {
  test.prop([
    fc.array(fc.oneof({ weight: 3, arbitrary: propsArb }, { weight: 1, arbitrary: wideArb }), { minLength: 1, maxLength: 12 }),
    fc.integer({ min: 1, max: 12 }),
  ])(
    'no parameter is lost or invented: each leaf is written under its name, or counted (bad name, read after the header was fixed, over 50, or a name already given); header names pass the rules',
    (props, scanCount) => {
      const records = props.map((p) => ({ userId: 'u', event: 'e', time: '1790845200', properties: p }));
      const proj = new JsonProjection({ map: {}, params: [], paramsFrom: ['properties'] });
      for (const r of records.slice(0, scanCount)) proj.scan(r as unknown as JsonValue);
      const mapping = proj.freeze();
      const names = mapping.layout.params.map((p) => p.name);
      for (const n of names) expect(leanplumAccepts(n), n).toBe(true);
      const counted = () => {
        const n = proj.finish();
        return n.paramsLeftOut.reduce((s, p) => s + p.rows, 0) + n.paramsLeftOutOtherNames + n.paramsOverLimitValues + n.paramsDuplicateValues;
      };
      for (const r of records) {
        const before = counted();
        const fields = proj.project(r as unknown as JsonObject) as string[];
        const written = mapping.layout.params.map((p) => [p.name, fields[p.index]!] as [string, string]).filter(([, v]) => v !== '');
        const oracle = leaves(r.properties);
        // nothing invented: every written cell is a leaf of this record with that value
        for (const [name, v] of written)
          expect(
            oracle.some(([n, t]) => n === name && t === v),
            `${name}=${v}`,
          ).toBe(true);
        // nothing lost: leaves = written + counted
        expect(written.length + (counted() - before)).toBe(oracle.length);
        expect(written.length).toBeLessThanOrEqual(50);
      }
    },
  );
});
