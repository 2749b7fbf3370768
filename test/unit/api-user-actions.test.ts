import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonNumber, setUserAttributesJson, userLayout } from '../../src/sinks/api/actions.js';

// The users and totals kinds through the API sink: one setUserAttributes action per clean row,
// built from the header and summary.json's column types (issue 19).
const parse = (s: string) => JSON.parse(s) as Record<string, unknown>;

describe('setUserAttributes actions from users rows', () => {
  const header = [
    'userId',
    'created',
    'lastActive',
    'country',
    'timezone',
    'userAttributes.plan',
    'userAttributes.age',
    'userAttributes.vip',
    'userAttributes.friends',
    'userAttributes.scores',
    'userAttributes.flags',
    'userAttributes.zip',
    'userAttributes.balance',
  ];
  const columns = [
    { name: 'userId', type: 'string' },
    { name: 'created', type: 'epoch' },
    { name: 'lastActive', type: 'epoch' },
    { name: 'country', type: 'string' },
    { name: 'timezone', type: 'string' },
    { name: 'userAttributes.plan', type: 'string' },
    { name: 'userAttributes.age', type: 'integer' },
    { name: 'userAttributes.vip', type: 'boolean' },
    { name: 'userAttributes.friends', type: 'list' },
    { name: 'userAttributes.scores', type: 'number[]' },
    { name: 'userAttributes.flags', type: 'boolean[]' },
    { name: 'userAttributes.zip', type: 'string' },
    { name: 'userAttributes.balance', type: 'decimal' },
  ];
  const l = userLayout(header, columns);

  it('sends each non-empty cell as its column type: fields at the top, attributes in userAttributes, lists as arrays', () => {
    const row = ['u1', '1483228800', '1496275200', 'NL', 'CET', 'gold', '-24', 'true', '[Jimmy, Sara, Amy]', '[1, 2.5, -3]', '[true, false]', '02139', '10.50'];
    const json = setUserAttributesJson(l, row, 'r1', 'b1');
    expect(parse(json)).toEqual({
      action: 'setUserAttributes',
      userId: 'u1',
      created: 1483228800,
      lastActive: 1496275200,
      country: 'NL',
      timezone: 'CET',
      userAttributes: {
        plan: 'gold',
        age: -24,
        vip: true,
        friends: ['Jimmy', 'Sara', 'Amy'],
        scores: [1, 2.5, -3],
        flags: [true, false],
        zip: '02139',
        balance: 10.5,
      },
      reqId: 'r1',
      uuid: 'b1',
    });
    // the decimal text is sent as written: 10.50, not 10.5
    expect(json).toContain('"balance":10.50');
    expect(Object.keys(parse(json))).toEqual(['action', 'userId', 'created', 'lastActive', 'country', 'timezone', 'userAttributes', 'reqId', 'uuid']);
  });

  it('an empty cell sends nothing (never clears); a row of only empty cells sends the userId alone; [] is an empty list', () => {
    const empty = ['u2', '', '', '', '', '', '', '', '', '', '', '', ''];
    expect(parse(setUserAttributesJson(l, empty, 'r', 'b'))).toEqual({ action: 'setUserAttributes', userId: 'u2', reqId: 'r', uuid: 'b' });
    const some = ['u3', '', '', '', '', '', '', 'false', '[]', '', '', '', ''];
    expect(parse(setUserAttributesJson(l, some, 'r', 'b'))).toEqual({
      action: 'setUserAttributes',
      userId: 'u3',
      userAttributes: { vip: false, friends: [] },
      reqId: 'r',
      uuid: 'b',
    });
  });

  it('numbers keep all their digits (never through a double)', () => {
    const big = ['u4', '', '', '', '', '', '12345678901234567891', '', '', '[9007199254740993, 0.1000000000000000055]', '', '', '0.1000000000000000055'];
    const json = setUserAttributesJson(l, big, 'r', 'b');
    expect(json).toContain('"age":12345678901234567891');
    expect(json).toContain('"scores":[9007199254740993,0.1000000000000000055]');
    expect(json).toContain('"balance":0.1000000000000000055');
    expect(() => parse(json)).not.toThrow();
  });

  it('refuses what the transform does not write: a cell that is not its type, a header without userId first, a column without a type', () => {
    const row = (i: number, v: string) => ['u', '', '', '', '', '', '', '', '', '', '', '', ''].map((x, k) => (k === i ? v : x));
    expect(() => setUserAttributesJson(l, row(6, '2.5'), 'r', 'b')).toThrow(/"2.5" under userAttributes.age, not a whole number/);
    expect(() => setUserAttributesJson(l, row(7, 'yes'), 'r', 'b')).toThrow(/not true or false/);
    expect(() => setUserAttributesJson(l, row(8, 'Jimmy'), 'r', 'b')).toThrow(/not a list written \[a, b, c\]/);
    expect(() => setUserAttributesJson(l, row(9, '[1, x]'), 'r', 'b')).toThrow(/"x" under userAttributes.scores, not a number/);
    expect(() => setUserAttributesJson(l, row(1, '2020-01-01'), 'r', 'b')).toThrow(/under created, not a number/);
    expect(() => setUserAttributesJson(l, ['u', 'x'], 'r', 'b')).toThrow(/2 fields, its header 13/);
    expect(() => userLayout(['created', 'userId'], columns)).toThrow(/userId is not the first column/);
    expect(() => userLayout(['userId', 'email'], columns)).toThrow(/unknown column email/);
    expect(() => userLayout(['userId', 'userAttributes.a.b'], columns)).toThrow(/not one attribute name/);
    expect(() => userLayout(['userId', 'userAttributes.new'], columns)).toThrow(/gives the column userAttributes.new no type/);
    expect(() => userLayout(['userId', 'userAttributes.x'], [{ name: 'userAttributes.x', type: 'date' }])).toThrow(/the type "date", not one of/);
    expect(() => userLayout(['userId', 'country', 'country'], columns)).toThrow(/country twice/);
  });
});

describe('setUserAttributes actions from totals rows', () => {
  const header = [
    'userId',
    'events.buy.count',
    'events.buy.firstTime',
    'events.buy.lastTime',
    'events.buy.value',
    'events.open app.count',
    'events.open app.firstTime',
    'events.open app.lastTime',
    'events.open app.value',
  ];
  const columns = header.map((name) => ({
    name,
    type: name.endsWith('.count') ? 'integer' : name.endsWith('.value') ? 'decimal' : name === 'userId' ? 'string' : 'epoch',
  }));
  const l = userLayout(header, columns);

  it('one events entry per event the user has, its four aggregates as numbers; events without a cell are not sent', () => {
    const json = setUserAttributesJson(l, ['u1', '3', '1700000000', '1700000500.25', '12.50', '', '', '', ''], 'r', 'b');
    expect(parse(json)).toEqual({
      action: 'setUserAttributes',
      userId: 'u1',
      events: { buy: { count: 3, firstTime: 1700000000, lastTime: 1700000500.25, value: 12.5 } },
      reqId: 'r',
      uuid: 'b',
    });
    expect(json).toContain('"value":12.50');
    const both = parse(setUserAttributesJson(l, ['u2', '1', '5', '5', '', '2', '1', '9', '0'], 'r', 'b'));
    expect(both['events']).toEqual({ buy: { count: 1, firstTime: 5, lastTime: 5 }, 'open app': { count: 2, firstTime: 1, lastTime: 9, value: 0 } });
  });

  it('a count is a whole number ≥ 0; an events column that is no aggregate is refused', () => {
    expect(() => setUserAttributesJson(l, ['u', '-1', '', '', '', '', '', '', ''], 'r', 'b')).toThrow(/not a whole number ≥ 0/);
    expect(() => setUserAttributesJson(l, ['u', '1.5', '', '', '', '', '', '', ''], 'r', 'b')).toThrow(/not a whole number ≥ 0/);
    expect(() => userLayout(['userId', 'events.buy.total'], [])).toThrow(/events.<name>.count\|firstTime\|lastTime\|value/);
    expect(() => userLayout(['userId', 'events.count'], [])).toThrow(/events.<name>/);
  });

  it('property: the JSON is what a naive builder makes from the same cells', () => {
    const count = fc.oneof(fc.constant(''), fc.nat().map(String));
    const time = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 2e9 }).map(String), fc.double({ min: 0, max: 2e9, noNaN: true }).map(String));
    const value = fc.oneof(fc.constant(''), fc.integer().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map(String));
    const event = fc.tuple(count, time, time, value);
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), event, event, fc.string(), fc.string(), (u, a, b, reqId, uuid) => {
        const fields = [u, ...a, ...b];
        const expected: Record<string, unknown> = { action: 'setUserAttributes', userId: u };
        const events: Record<string, Record<string, number>> = {};
        const names = ['buy', 'open app'];
        [a, b].forEach((cells, k) => {
          const e: Record<string, number> = {};
          ['count', 'firstTime', 'lastTime', 'value'].forEach((f, i) => {
            if (cells[i] !== '') e[f] = Number(cells[i]);
          });
          if (Object.keys(e).length > 0) events[names[k]!] = e;
        });
        if (Object.keys(events).length > 0) expected['events'] = events;
        Object.assign(expected, { reqId, uuid });
        expect(parse(setUserAttributesJson(l, fields, reqId, uuid))).toEqual(expected);
      }),
    );
  });
});

describe('jsonNumber: a decimal text as a JSON number token, digit for digit', () => {
  it('keeps JSON spellings; rewrites the others exactly; refuses what is no number', () => {
    for (const t of ['0', '-0', '12', '-3.25', '1e5', '2.5E-3', '12345678901234567891', '0.1000000000000000055']) expect(jsonNumber(t)).toBe(t);
    expect(jsonNumber('+5')).toBe('5');
    expect(jsonNumber('.5')).toBe('0.5');
    expect(jsonNumber('-.5')).toBe('-0.5');
    expect(jsonNumber('5.')).toBe('5');
    expect(jsonNumber('007')).toBe('7');
    expect(jsonNumber('-00.10')).toBe('-0.10');
    for (const t of ['', '.', '-', 'abc', '1,5', '0x10', 'NaN', 'Infinity', '1e', ' 1', '1 ']) expect(jsonNumber(t), t).toBeUndefined();
  });

  it('property: the token parses to the same number as the text, and keeps its significant digits', () => {
    const text = fc
      .tuple(fc.constantFrom('', '-', '+'), fc.stringMatching(/^[0-9]{0,25}$/), fc.option(fc.stringMatching(/^[0-9]{0,25}$/)))
      .filter(([, w, f]) => w !== '' || (f !== null && f !== ''))
      .map(([s, w, f]) => `${s}${w}${f === null ? '' : `.${f}`}`);
    fc.assert(
      fc.property(text, (t) => {
        const n = jsonNumber(t)!;
        expect(n).toBeDefined();
        expect(JSON.parse(n)).toBe(Number(t));
        const digits = (x: string) => x.replace(/[^0-9]/g, '').replace(/^0+/, '');
        expect(digits(n)).toBe(digits(t));
      }),
    );
  });
});

describe('--clear-empty: the clearUserAttributes column', () => {
  const header = ['userId', 'userAttributes.plan', 'userAttributes.tier', 'clearUserAttributes'];
  const columns = [
    { name: 'userAttributes.plan', type: 'string' },
    { name: 'userAttributes.tier', type: 'number' },
    { name: 'clearUserAttributes', type: 'list' },
  ];
  const l = userLayout(header, columns);

  it('sends each attribute it names as null, beside the values set; an empty cell clears nothing', () => {
    expect(parse(setUserAttributesJson(l, ['u', 'gold', '', '[tier, old name]'], 'r', 'b'))['userAttributes']).toEqual({
      plan: 'gold',
      tier: null,
      'old name': null,
    });
    expect(parse(setUserAttributesJson(l, ['u', 'gold', '2', ''], 'r', 'b'))['userAttributes']).toEqual({ plan: 'gold', tier: 2 });
    expect(parse(setUserAttributesJson(l, ['u', '', '', '[plan]'], 'r', 'b'))['userAttributes']).toEqual({ plan: null });
  });

  it('refuses a clear of an attribute the same row sets', () => {
    expect(() => setUserAttributesJson(l, ['u', 'gold', '', '[plan]'], 'r', 'b')).toThrow(
      /under clearUserAttributes, not a list of attribute names whose own cells are empty \("plan"\)/,
    );
  });
});
