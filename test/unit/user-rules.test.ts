import { describe, expect, it } from 'vitest';
import { cellText, ColumnTypes, decideColumnType, textType, usersHeader, valueProblem } from '../../src/events/user-cells.js';
import { attributeNameProblem, attributeRename } from '../../src/events/user-names.js';
import { settleUserRecord, type LeftOutValue, type UserRecordOptions } from '../../src/events/user-rules.js';
import { UsersJsonProjection } from '../../src/input/json/user-projection.js';
import { parseJson, type JsonObject } from '../../src/input/json/json-text.js';
import { userValueOf } from '../../src/input/json/user-values.js';
import { csvUserRecord, resolveUsersMapping, type UserMappingOptions } from '../../src/input/user-mapping.js';
import type { RawUserRecord, RawUserResult } from '../../src/model/user-record.js';

const none: UserMappingOptions = { map: {}, attrs: [], dropAttrs: [], renames: [] };
const opts: UserRecordOptions = { timeFormat: 'auto', zone: 'UTC', clearEmpty: false };

describe('cells of the users clean CSV', () => {
  it('writes strings as they are, numbers exactly, booleans as true/false, lists in the bracket form', () => {
    expect(cellText('Oslo, NO')).toBe('Oslo, NO');
    expect(cellText(24)).toBe('24');
    expect(cellText(0.1)).toBe('0.1');
    expect(cellText(false)).toBe('false');
    expect(cellText(['Jimmy', 'Sara', 'Amy'])).toBe('[Jimmy, Sara, Amy]');
    expect(cellText([1, 2])).toBe('[1, 2]');
    expect(cellText(null)).toBe('');
    expect(cellText([])).toBe('');
  });

  it('refuses list items the bracket form cannot carry, and nested lists', () => {
    expect(valueProblem(['a', 'b'])).toBeUndefined();
    for (const bad of [['a, b'], ['a,b'], ['[x]'], ['x]'], [' a'], ['a '], [''], [null]])
      expect(valueProblem(bad), JSON.stringify(bad)).toBe('ambiguous_list_item');
    expect(valueProblem([['a']])).toBe('nested_list');
    expect(valueProblem('a, b')).toBeUndefined(); // a string cell is quoted, not split
  });

  it('orders the header: userId, the fields present in their fixed order, then attributes by code point', () => {
    expect(usersHeader(['city', 'created'], ['b', 'B', 'a', 'é'])).toEqual([
      'userId',
      'created',
      'city',
      'userAttributes.B',
      'userAttributes.a',
      'userAttributes.b',
      'userAttributes.é',
    ]);
  });

  it("reads a CSV cell's type from its text, only when the number prints back as written", () => {
    for (const t of ['7', '-3', '1.5', '0.1', '0']) expect(textType(t), t).toBe('number');
    for (const t of ['007', '1.50', '+5', '1e3', ' 7', '12345678901234567890', 'NaN', 'Infinity', '-', '', '0x10']) expect(textType(t), t).toBe('string');
    expect(textType('true')).toBe('boolean');
    expect(textType('True')).toBe('string');
    const t = new ColumnTypes();
    for (const v of ['24', '31']) t.add('a', v, true);
    for (const v of ['24', '0150']) t.add('b', v, true);
    t.add('c', '24');
    expect(t.decide(['a', 'b', 'c'])).toEqual({ a: { type: 'number' }, b: { type: 'string', conflict: { number: 1, string: 1 } }, c: { type: 'string' } });
  });

  it('decides a column type: the one type seen; several types make string (or string[] for lists) and are reported', () => {
    expect(decideColumnType({ number: 3 })).toEqual({ type: 'number' });
    expect(decideColumnType({ number: 2, string: 1 })).toEqual({ type: 'string', conflict: { number: 2, string: 1 } });
    expect(decideColumnType({ 'number[]': 2, 'string[]': 1 })).toEqual({ type: 'string[]', conflict: { 'number[]': 2, 'string[]': 1 } });
    expect(decideColumnType({})).toEqual({ type: 'string' });
    const t = new ColumnTypes();
    t.add('userAttributes.age', 3);
    t.add('userAttributes.tags', ['a', 1]);
    expect(t.decide(['userId', 'userAttributes.age', 'userAttributes.tags', 'userAttributes.none'])).toEqual({
      userId: { type: 'string' },
      'userAttributes.age': { type: 'number' },
      'userAttributes.tags': { type: 'string[]' },
      'userAttributes.none': { type: 'string' },
    });
  });
});

describe('attribute names', () => {
  it("follow Leanplum's name rules and refuse a dot (it would nest)", () => {
    expect(attributeNameProblem('email')).toBeUndefined();
    expect(attributeNameProblem('address.city')).toMatch(/"\."/);
    expect(attributeNameProblem('a,b')).toMatch(/not allowed/);
    expect(attributeNameProblem('42')).toMatch(/numeric/);
  });

  it('suggest a rename that passes', () => {
    expect(attributeRename('address.city')).toBe('address_city');
    expect(attributeRename('.hidden')).toBe('hidden');
    expect(attributeRename('42')).toBe('attr_42');
    expect(attributeRename('a|b')).toBe('a_b');
    expect(attributeRename('')).toBeUndefined();
  });
});

describe('one record through the rules', () => {
  const settle = (raw: RawUserRecord, o = opts) => {
    const left: LeftOutValue[] = [];
    return { r: settleUserRecord(raw, o, (v) => left.push(v)), left };
  };

  it('reads created/lastActive as epoch seconds (no offset: --tz) and the record time as epoch ms', () => {
    const { r } = settle(
      {
        userId: 'u1',
        time: '2024-01-02T00:00:00Z',
        fields: { created: '2024-01-01 10:00:00', lastActive: 1704103200, locale: 'en_US' },
        attributes: { a: 'x' },
      },
      { ...opts, zone: 'Europe/Berlin' },
    );
    expect(r).toEqual({
      kind: 'kept',
      record: { userId: 'u1', time: 1704153600000, fields: { created: 1704099600, lastActive: 1704103200, locale: 'en_US' }, attributes: { a: 'x' } },
      // created had no offset: read in --tz, and said so (the report's naive_times)
      naive: true,
    });
  });

  it('rejects a bad time, a missing or too long user id; drops a record that sets nothing', () => {
    expect(settle({ userId: 'u', time: undefined, fields: { created: 'soon' }, attributes: {} }).r).toMatchObject({ kind: 'rejected', reason: 'bad_time' });
    expect(settle({ userId: '  ', time: undefined, fields: {}, attributes: { a: 'x' } }).r).toMatchObject({ kind: 'rejected', reason: 'missing_user_id' });
    expect(settle({ userId: 'x'.repeat(401), time: undefined, fields: {}, attributes: { a: 'x' } }).r).toMatchObject({
      kind: 'rejected',
      reason: 'bad_user_id',
    });
    expect(settle({ userId: 1.5, time: undefined, fields: {}, attributes: { a: 'x' } }).r).toMatchObject({ kind: 'rejected', reason: 'bad_user_id' });
    expect(settle({ userId: 'u', time: undefined, fields: { locale: '' }, attributes: { a: '', b: null } }).r).toEqual({
      kind: 'dropped',
      reason: 'nothing_to_set',
    });
    // with --clear-empty the empty attribute is a clear, so the record sets something
    expect(settle({ userId: 7, time: undefined, fields: {}, attributes: { a: '' } }, { ...opts, clearEmpty: true }).r).toEqual({
      kind: 'kept',
      record: { userId: '7', time: undefined, fields: {}, attributes: { a: null } },
    });
  });

  it('leaves out a value with a bad name or without a cell form, naming the reason, and keeps the rest', () => {
    const { r, left } = settle({ userId: 'u', time: undefined, fields: {}, attributes: { 'a.b': 1, tags: ['x, y'], ok: true } });
    expect(r).toEqual({ kind: 'kept', record: { userId: 'u', time: undefined, fields: {}, attributes: { ok: true } } });
    expect(left.map((l) => [l.name, l.problem])).toEqual([
      ['a.b', 'bad_name'],
      ['tags', 'ambiguous_list_item'],
    ]);
  });
});

describe('CSV header for --kind users', () => {
  it('maps userId and the fields named like them; every other column is an attribute (userAttributes.x is x)', () => {
    const l = resolveUsersMapping(['user_id', 'Country', 'email', 'userAttributes.age', 'plan'], { ...none, map: { userId: 'user_id' } });
    expect(l.userId).toBe(0);
    expect(l.fields).toEqual([{ index: 1, field: 'country' }]);
    expect(l.attributes).toEqual([
      { index: 2, name: 'email' },
      { index: 3, name: 'age' },
      { index: 4, name: 'plan' },
    ]);
    expect(csvUserRecord(['u1', 'NO', '', '24', 'pro'], l)).toEqual({
      userId: 'u1',
      time: undefined,
      fields: { country: 'NO' },
      attributes: { email: '', age: '24', plan: 'pro' },
    });
    expect(csvUserRecord(['u1', 'NO'], l)).toMatchObject({ kind: 'rejected', reason: 'ragged_row' });
  });

  it('--attr names the only attributes; --drop-attr leaves one out; --rename-attr renames', () => {
    const h = ['userId', 'email', 'plan', 'score', 'country'];
    expect(
      resolveUsersMapping(h, {
        ...none,
        attrs: [
          { column: 'plan', name: 'tier' },
          { column: 'country', name: 'country' },
        ],
      }),
    ).toMatchObject({
      attributes: [
        { index: 2, name: 'tier' },
        { index: 4, name: 'country' },
      ],
      fields: [],
      leftOut: ['email', 'score'],
    });
    expect(resolveUsersMapping(h, { ...none, dropAttrs: ['score'], renames: [{ column: 'email', name: 'mail' }] })).toMatchObject({
      attributes: [
        { index: 1, name: 'mail' },
        { index: 2, name: 'plan' },
      ],
      fields: [{ index: 4, field: 'country' }],
      leftOut: ['score'],
    });
  });

  it('refuses a name with a dot before any output, with the flag that fixes it', () => {
    let err: unknown;
    try {
      resolveUsersMapping(['userId', 'address.city', 'a b.c'], none);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'BAD_HEADER' });
    expect((err as Error).message).toMatch(/attribute "address.city" \(column "address.city"\) contains "\."/);
    expect((err as { hint: string }).hint).toContain("--rename-attr address.city=address_city --rename-attr 'a b.c=a b_c'");
  });

  it('refuses a missing user id column with the likely one, and flags that name no column', () => {
    expect(() => resolveUsersMapping(['user_id', 'email'], none)).toThrow(/Did you mean --map userId=user_id\?/);
    expect(() => resolveUsersMapping(['userId', 'email'], { ...none, dropAttrs: ['emai'] })).toThrow(/Did you mean --drop-attr email\?/);
    expect(() => resolveUsersMapping(['userId', 'a', 'b'], { ...none, renames: [{ column: 'a', name: 'b' }] })).toThrow(/comes from two columns/);
  });

  // review of issue 19: two columns named alike got "rename one with --rename-attr <column>=<name>",
  // which then fails ("cannot tell which one is meant")
  it('two columns with the same name: the hint is to rename them in the export, not a flag that cannot tell them apart', () => {
    let err: unknown;
    try {
      resolveUsersMapping(['userId', 'email', 'email'], none);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain('attribute "email" comes from two columns both named "email" (columns 2 and 3); no flag can tell them apart');
    expect((err as Error).message).not.toContain('--rename-attr');
    expect((err as { hint: string }).hint).toContain('Rename the columns in the export');
  });
});

describe('JSON records for --kind users', () => {
  const rec = (text: string) => {
    const p = parseJson(text);
    if (!p.ok) throw new Error(p.message);
    return p.value as JsonObject;
  };
  const project = (o: UserMappingOptions, text: string): RawUserResult => new UsersJsonProjection(o).project(rec(text));

  it('keeps types, flattens objects with _, keeps long numbers as their text', () => {
    expect(
      project(
        { ...none, map: { userId: 'id', time: 'updated' } },
        '{"id":42,"updated":"2024-01-01T00:00:00Z","country":"NO","address":{"city":"Oslo","zip":"0150"},"vip":true,"score":1.5,"big":12345678901234567890,"tags":["a","b"]}',
      ),
    ).toEqual({
      userId: 42,
      time: '2024-01-01T00:00:00Z',
      fields: { country: 'NO' },
      attributes: { address_city: 'Oslo', address_zip: '0150', vip: true, score: 1.5, big: '12345678901234567890', tags: ['a', 'b'] },
      refused: [],
    });
  });

  it('--attr paths only; --drop-attr and --rename-attr by flattened name; a list of objects is refused by name', () => {
    expect(project({ ...none, attrs: [{ column: 'p.email', name: 'email' }] }, '{"userId":"u","p":{"email":"e@x","x":1}}')).toMatchObject({
      attributes: { email: 'e@x' },
    });
    expect(
      project({ ...none, dropAttrs: ['p_x'], renames: [{ column: 'p_email', name: 'mail' }] }, '{"userId":"u","p":{"email":"e@x","x":1},"l":[{"a":1}]}'),
    ).toMatchObject({ attributes: { mail: 'e@x' }, refused: [{ name: 'l', problem: 'nested_list' }] });
  });

  it('refuses a duplicate flattened name (the first stays) and a user id that is an object', () => {
    expect(project(none, '{"userId":"u","a_b":1,"a":{"b":2}}')).toMatchObject({
      attributes: { a_b: 1 },
      refused: [{ name: 'a_b', problem: 'duplicate_name' }],
    });
    expect(project(none, '{"userId":{"x":1}}')).toMatchObject({ kind: 'rejected', reason: 'bad_user_id' });
  });

  it('turns Parquet values into attribute values: bigint, Date, bytes', () => {
    expect(userValueOf(12n)).toBe(12);
    expect(userValueOf(2n ** 63n - 1n)).toBe('9223372036854775807');
    expect(userValueOf(new Date('2024-05-01T10:00:00Z'))).toBe('2024-05-01T10:00:00.000Z');
    expect(userValueOf(new Uint8Array([1]))).toEqual({ problem: 'unsupported_value' });
  });
});

describe("a preset's people record for --kind users", () => {
  it('--map wins over the preset; --attr keeps only names the preset gives; attribute times follow a rename', async () => {
    const { UsersPresetProjection } = await import('../../src/presets/user-projection.js');
    const preset = {
      name: 'fake',
      sources: { userId: '', time: '', fields: '', attributes: '', dropped: '', merge: '' },
      read: (r: JsonObject) => ({
        userId: r['id'],
        time: '2025-01-01T00:00:00Z',
        fields: { country: 'NO' },
        attributes: { email: 'a@x', plan: 'pro', prefs: { theme: 'dark' } },
        attributeTimes: { plan: 1700000000000 },
      }),
    };
    const p = new UsersPresetProjection(preset, {
      ...none,
      map: { country: 'geo.cc' },
      attrs: [
        { column: 'plan', name: 'tier' },
        { column: 'prefs_theme', name: 'prefs_theme' },
      ],
    });
    expect(p.project({ id: 'u1', geo: { cc: 'SE' } })).toEqual({
      userId: 'u1',
      time: '2025-01-01T00:00:00Z',
      fields: { country: 'SE' },
      attributes: { tier: 'pro', prefs_theme: 'dark' },
      refused: [],
      attributeTimes: { tier: 1700000000000 },
    });
    expect(new UsersPresetProjection({ ...preset, read: () => ({ kind: 'dropped', reason: 'deleted' }) }, none).project({})).toEqual({
      kind: 'dropped',
      reason: 'deleted',
    });
  });
});

describe('CSV header for --kind users: the record time', () => {
  it('is only a column named with --map time=; a column called "time" is an attribute', () => {
    expect(resolveUsersMapping(['userId', 'time'], none)).toMatchObject({ time: -1, attributes: [{ index: 1, name: 'time' }] });
    expect(resolveUsersMapping(['userId', 'time'], { ...none, map: { time: 'time' } })).toMatchObject({ time: 1, attributes: [] });
  });
});

describe("the users fold's bound on attribute names", () => {
  it('stops with exit 2 naming --attr past 2,000 distinct names (memory of the columns)', async () => {
    const { UsersFold, MAX_ATTRIBUTES } = await import('../../src/transform/users-fold.js');
    const fold = new UsersFold(false);
    const attributes = Object.fromEntries(Array.from({ length: MAX_ATTRIBUTES }, (_, i) => [`a${i}`, 1]));
    fold.see({ userId: 'u', time: undefined, fields: {}, attributes });
    expect(() => fold.see({ userId: 'v', time: undefined, fields: {}, attributes: { extra: 1 } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/more than 2000 distinct attribute names \(the 2001th is "extra"\)/) }),
    );
  });
});
