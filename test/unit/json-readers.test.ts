import { describe, expect, it } from 'vitest';
import { BackfillError } from '../../src/errors.js';
import { JsonArraySplitter } from '../../src/input/json/json-array-reader.js';
import { jsonText, parseJson, stringifyJson } from '../../src/input/json/json-text.js';
import { NdjsonSplitter } from '../../src/input/json/ndjson-reader.js';
import { detectFormat } from '../../src/input/format.js';
import { flattenObject, getPath } from '../../src/input/json/paths.js';

type Out = [string, number] | ['TOO_LARGE', number, number];

function ndjson(chunks: (string | Buffer)[], max = 1 << 20): Out[] {
  const out: Out[] = [];
  const s = new NdjsonSplitter(
    (t, l) => out.push([t, l]),
    (_h, bytes, l) => out.push(['TOO_LARGE', bytes, l]),
    max,
  );
  for (const c of chunks) s.write(Buffer.isBuffer(c) ? c : Buffer.from(c));
  s.end();
  return out;
}

function array(chunks: string[], max = 1 << 20): Out[] {
  const out: Out[] = [];
  const s = new JsonArraySplitter(
    (t, l) => out.push([t, l]),
    (_h, bytes, l) => out.push(['TOO_LARGE', bytes, l]),
    max,
    'in.json',
  );
  for (const c of chunks) s.write(Buffer.from(c));
  s.end();
  return out;
}

describe('exact numbers (a 19-digit id must not go through a double)', () => {
  it('keeps every digit of long integers, as numbers anywhere and as text in fields', () => {
    const p = parseJson('{"distinct_id":1234567890123456789,"n":[12345678901234567890,1],"s":"1234567890123456789012","f":0.5}');
    expect(p.ok).toBe(true);
    const v = (p as { value: Record<string, unknown> }).value;
    expect(jsonText(v['distinct_id'])).toBe('1234567890123456789');
    expect(jsonText(v['n'])).toBe('[12345678901234567890,1]');
    expect(jsonText(v['s'])).toBe('1234567890123456789012');
    expect(jsonText(v['f'])).toBe('0.5');
    // a plain JSON.parse would have lost them
    expect(String(JSON.parse('{"a":1234567890123456789}').a)).toBe('1234567890123456800');
  });

  it('leaves digits inside strings (escaped quotes included) alone and reports bad JSON', () => {
    const p = parseJson('{"a":"x\\"1234567890123456789","b":-12345678901234567.5e3}');
    expect(p.ok && jsonText((p.value as Record<string, unknown>)['a'])).toBe('x"1234567890123456789');
    expect(p.ok && jsonText((p.value as Record<string, unknown>)['b'])).toBe('-12345678901234567.5e3');
    expect(parseJson('{"a":').ok).toBe(false);
    expect(stringifyJson({ big: 12n ** 20n, d: new Date(Date.UTC(2024, 0, 2)) })).toBe('{"big":3833759992447475122176,"d":"2024-01-02T00:00:00.000Z"}');
  });
});

describe('NDJSON lines', () => {
  it('numbers physical lines across CRLF, blank lines and chunk borders; the empty rest after a final LF is no line', () => {
    expect(ndjson(['{"a":1}\r\n\n  \n{"b"', ':2}\n{"c":3}'])).toEqual([
      ['{"a":1}', 1],
      ['', 2],
      ['  ', 3],
      ['{"b":2}', 4],
      ['{"c":3}', 5],
    ]);
    expect(ndjson(['\uFEFF{"a":1}\n'])).toEqual([['{"a":1}', 1]]);
    expect(ndjson(['{"a":"\r"}\n'])).toEqual([['{"a":"\r"}', 1]]);
  });

  it('hands over a line longer than the limit as too large, keeping the lines after it', () => {
    const long = `{"x":"${'y'.repeat(3000)}"}`;
    expect(ndjson([long.slice(0, 1000), long.slice(1000), '\n{"a":1}\n'], 2048)).toEqual([
      ['TOO_LARGE', long.length, 1],
      ['{"a":1}', 2],
    ]);
    expect(ndjson([`${long}\n{"a":1}\n`], 2048)).toEqual([
      ['TOO_LARGE', long.length, 1],
      ['{"a":1}', 2],
    ]);
  });
});

describe('JSON arrays', () => {
  it('hands over an element longer than the limit as too large (its size, its line), keeping the elements after it', () => {
    const long = `{"x":"${'y'.repeat(3000)}"}`;
    expect(array(['[\n{"a":1},\n', long.slice(0, 1000), long.slice(1000), ',\n{"b":2}]'], 2048)).toEqual([
      ['{"a":1}', 2],
      ['TOO_LARGE', long.length, 3],
      ['{"b":2}', 4],
    ]);
  });

  it('splits elements with the line each starts on, brackets and commas inside strings included', () => {
    expect(array(['[\n {"a":"],{"},\n', ' {"b":[1,2]} ,\n 3,"x"\n]\n'])).toEqual([
      ['{"a":"],{"}', 2],
      ['{"b":[1,2]}', 3],
      ['3', 4],
      ['"x"', 4],
    ]);
    expect(array(['[]'])).toEqual([]);
    expect(array([''])).toEqual([]);
  });

  it('skips an oversized element by its structure and stops on a document that is not an array', () => {
    expect(array([`[{"x":"${'y'.repeat(3000)}"},{"a":1}]`], 2048)).toEqual([
      ['TOO_LARGE', 3008, 1],
      ['{"a":1}', 1],
    ]);
    for (const bad of ['{"a":1}', '[{"a":1}', '[{"a":1} {"b":2}]', '[1,]x']) {
      expect(() => array([bad]), bad).toThrow(BackfillError);
    }
  });
});

describe('format by content', () => {
  it('zip, Parquet, NDJSON, array, CSV by first bytes; --format forces only the text formats', () => {
    expect(detectFormat(Buffer.from('PK\x03\x04rest'))).toBe('zip');
    expect(detectFormat(Buffer.from('PAR1....'))).toBe('parquet');
    expect(detectFormat(Buffer.from('\uFEFF  \n{"a":1}'))).toBe('ndjson');
    expect(detectFormat(Buffer.from(' [{"a":1}]'))).toBe('json');
    expect(detectFormat(Buffer.from('userId,event,time'))).toBe('csv');
    expect(detectFormat(Buffer.from('[userId],event'), 'csv')).toBe('csv');
    expect(detectFormat(Buffer.from('PK\x03\x04'), 'csv')).toBe('zip');
  });
});

describe('dotted paths and flattening', () => {
  it('walks objects, preferring a whole key that holds dots', () => {
    const r = { properties: { distinct_id: 'u1', 'a.b': 1, a: { b: 2 } } };
    expect(getPath(r, 'properties.distinct_id')).toBe('u1');
    expect(getPath(r, 'properties.a.b')).toBe(1);
    expect(getPath(r, 'properties.missing')).toBeUndefined();
    expect(flattenObject({ cart: { total: 3, items: [1, 2], meta: {} }, plan: 'pro' })).toEqual([
      { name: 'cart.total', value: 3 },
      { name: 'cart.items', value: [1, 2] },
      { name: 'cart.meta', value: {} },
      { name: 'plan', value: 'pro' },
    ]);
  });
});
