// stringifyJson writes most values with a plain JSON.stringify and only those that need it (a
// bigint, a long number kept as marked text, bytes, a value nested deeper than it looks) through
// its replacer (issue 21: the replacer, a call per value, was 1.5% of an NDJSON transform). The
// oracle is the replacer path written out here: the two must give the same text for any value.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { stringifyJson } from '../../src/input/json/json-text.js';

const MARK = '\u0000';

/** What stringifyJson wrote before the plain path: every value through the replacer. */
function oracle(v: unknown): string {
  let marked = false;
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') {
      marked = true;
      return MARK + x.toString();
    }
    if (typeof x === 'string' && x.charCodeAt(0) === 0) marked = true;
    if (x instanceof Uint8Array) return Buffer.from(x).toString('base64');
    return x;
  });
  if (text === undefined) return '';
  return marked ? text.replace(/"\\u0000([^"]*)"/g, '$1') : text;
}

const scalar = fc.oneof(
  fc.string(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.bigInt({ min: 10n ** 15n, max: 10n ** 25n }).map((n) => MARK + n.toString()),
  fc.uint8Array({ maxLength: 6 }),
  fc.date({ noInvalidDate: true }),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
}));

/** a value nested `n` arrays deep around `inner` (past the depth the plain check looks into) */
const nest = (inner: unknown, n: number): unknown => (n === 0 ? inner : [nest(inner, n - 1)]);

describe('stringifyJson', () => {
  test.prop([value])('the same text as through the replacer, for any value', (v) => {
    expect(stringifyJson(v)).toBe(oracle(v));
  });

  test.prop([fc.integer({ min: 0, max: 14 }), fc.constantFrom<unknown>(5n, `${MARK}12345678901234567890`, new Uint8Array([1, 2]), 'x', 1.5)])(
    'deeply nested values too',
    (depth, inner) => {
      const v = { a: nest(inner, depth) };
      expect(stringifyJson(v)).toBe(oracle(v));
    },
  );
});
