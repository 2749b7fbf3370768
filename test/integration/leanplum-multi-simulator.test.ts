import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeanplumSimulator, startApiSimulator } from '../stand-ins/leanplum-simulator.js';

// The Leanplum stand-in's JSON multi call is test equipment for the API sink; its contract rules
// (shared/LEANPLUM-API.md, "JSON multi") are shown to hold here with plain fetch, not the tool's code.
const APP = { id: 'app-multi', devKey: 'dev-SECRET-multi-1111', prodKey: 'prod-SECRET-multi-2222' };
let sim: LeanplumSimulator;
const now = () => Math.floor(Date.now() / 1000);

type Answer = { success: boolean; reqId?: string; warning?: { message: string }; error?: { message: string } };
type Action = Record<string, unknown>;

function post(data: unknown[], over: Record<string, unknown> = {}, query = '?action=multi') {
  return fetch(`${sim.apiUrl}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appId: APP.id, clientKey: APP.prodKey, apiVersion: '1.0.6', time: Date.now() / 1000, data, ...over }),
  });
}
async function answers(r: Response): Promise<Answer[]> {
  expect(r.status).toBe(200);
  return ((await r.json()) as { response: Answer[] }).response;
}
const message = async (r: Response) => ((await r.json()) as { response: Answer[] }).response[0]!.error!.message;
const track = (userId: string, i: number, over: Action = {}): Action => ({
  action: 'track',
  userId,
  event: 'open',
  time: now() - 60,
  params: { level: i },
  uuid: 'batch-1',
  reqId: `r-${userId}-${i}`,
  ...over,
});
/** n users × per actions, user-major */
const batch = (n: number, per: number, tag = 'b') =>
  Array.from({ length: n * per }, (_, i) => track(`u${Math.floor(i / per)}`, i % per, { uuid: tag, reqId: `${tag}-${i}` }));

beforeAll(async () => {
  sim = new LeanplumSimulator({ apps: { [APP.id]: { devKey: APP.devKey, prodKey: APP.prodKey } } });
  await sim.start();
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.faults.clear();
  sim.configureMulti({ reset: true, latencyMs: 0, echoReqId: true, reorderAnswers: false, record: 'all', failEvents: [] });
  sim.echoKey = false;
});

describe('JSON multi: keys and apps', () => {
  it('takes the Production key only; a Development or wrong key is "Invalid access key", an unknown app "App not found"', async () => {
    expect((await answers(await post([track('u1', 0)])))[0]).toEqual({ success: true, reqId: 'r-u1-0' });
    const dev = await post([track('u1', 1)], { clientKey: APP.devKey });
    expect(dev.status).toBe(401);
    expect(await message(dev)).toMatch(/^Invalid access key/);
    const wrong = await post([track('u1', 1)], { clientKey: 'nope' });
    expect(wrong.status).toBe(401);
    expect(await message(wrong)).toBe('Invalid access key');
    const app = await post([track('u1', 1)], { appId: 'other' });
    expect(await message(app)).toMatch(/^App not found/);
    const devMode = await post([track('u1', 1)], { devMode: true });
    expect(await message(devMode)).toBe('Development mode requested but not permitted');
    expect(sim.multi.stats).toMatchObject({ applied: 1, refused: 4 });
  });

  it('refuses a key in the URL query, visibly, and counts it', async () => {
    const r = await post([track('u1', 0)], {}, `?action=multi&clientKey=${APP.prodKey}`);
    expect(r.status).toBe(400);
    expect(await message(r)).toMatch(/clientKey was sent in the URL/);
    expect(sim.multi.stats).toMatchObject({ keyInUrl: 1, applied: 0 });
  });

  it('takes the action from the query or the body', async () => {
    expect(await answers(await post([track('u1', 0)], { action: 'multi' }, ''))).toHaveLength(1);
  });
});

describe('JSON multi: limits (50 users / 500 actions, else 403 and nothing applied)', () => {
  it('50 users and 500 actions pass; 51 users or 501 actions are 403 with nothing applied', async () => {
    expect(await answers(await post(batch(50, 10, 'ok')))).toHaveLength(500);
    expect(sim.multi.stats).toMatchObject({ applied: 500, billableLookups: 50 });
    const users51 = await post(batch(51, 1, 'u51'));
    expect(users51.status).toBe(403);
    const actions501 = await post([...batch(50, 10, 'a501'), track('u0', 99, { uuid: 'a501', reqId: 'extra' })]);
    expect(actions501.status).toBe(403);
    expect(await message(actions501)).toMatch(/501 actions, 50 users/);
    const one = await post(batch(1, 501, 'one'));
    expect(one.status).toBe(403);
    expect(sim.multi.stats).toMatchObject({ applied: 500, status403: 3, billableLookups: 50 });
    expect(sim.multi.appliedActions().every((a) => a.uuid === 'ok')).toBe(true);
  });
});

describe('JSON multi: per-action answers', () => {
  it('one answer per action in request order, reqId echoed; errors for the name rules, types and missing fields', async () => {
    const t = now() - 60;
    const cases: [Action, RegExp | null][] = [
      [{ action: 'track', userId: 'a', event: 'open', time: t }, null],
      [{ action: 'track', userId: 'a', event: 'open', time: t + 0.25, value: 1.5, currencyCode: 'EUR', params: { level: 3, ok: true, s: 'x' } }, null],
      [{ action: 'track', userId: 'a', event: 'e'.repeat(140), time: t }, /^Invalid event name: must be 1-139/],
      [{ action: 'track', userId: 'a', event: 'e'.repeat(139), time: t }, null],
      [{ action: 'track', userId: 'a', event: '.x', time: t }, /^Invalid event name/],
      [{ action: 'track', userId: 'a', event: '-x', time: t }, /^Invalid event name/],
      [{ action: 'track', userId: 'a', event: 'x/', time: t }, /^Invalid event name/],
      [{ action: 'track', userId: 'a', event: '123', time: t }, /purely numeric/],
      [{ action: 'track', userId: 'a', event: 'bad event', time: t }, null],
      ...[',', '|', '"', '{', '\t', '\n'].map((c): [Action, RegExp] => [{ action: 'track', userId: 'a', event: `a${c}b`, time: t }, /^Invalid event name/]),
      [{ action: 'track', userId: 'a', event: 'open', time: t, params: { 'a|b': 1 } }, /^Invalid parameter name "a\|b"/],
      [{ action: 'track', userId: 'a', event: 'open', time: t, params: { '.p': 1 } }, /^Invalid parameter name/],
      [
        { action: 'track', userId: 'a', event: 'open', time: t, params: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`p${i}`, i])) },
        /Too many parameters: 51/,
      ],
      [{ action: 'track', userId: 'a', event: 'open', time: t, params: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, i])) }, null],
      [{ action: 'track', userId: 'a', event: 'open', time: t, params: { nested: { x: 1 } } }, /Invalid value for parameter "nested"/],
      [{ action: 'track', userId: 'a', event: 'open', time: t, params: [1] }, /params must be a JSON object/],
      [{ action: 'track', userId: 'a', event: 'open', time: String(t) }, /^Invalid time/],
      [{ action: 'track', userId: 'a', event: 'open' }, /time is required/],
      [{ action: 'track', userId: 'a', event: 'open', time: t, value: '3' }, /^Invalid value/],
      [{ action: 'track', userId: 'a', event: 'open', time: t, currencyCode: 'eur' }, /^Invalid currencyCode/],
      [{ action: 'track', event: 'open', time: t }, /userId is required/],
      [{ action: 'track', userId: 7, event: 'open', time: t }, /userId must be a string/],
      [{ action: 'track', userId: 'u'.repeat(401), event: 'open', time: t }, /userId is longer than 400/],
      [{ action: 'track', userId: 'a', time: t }, /event is required/],
      [{ action: 'frobnicate', userId: 'a' }, /^Unknown action: frobnicate/],
      [{ userId: 'a', event: 'open', time: t }, /action is required/],
    ];
    const data = cases.map(([a], i) => ({ ...a, uuid: 'rules', reqId: `q${i}` }));
    const out = await answers(await post(data));
    expect(out).toHaveLength(cases.length);
    cases.forEach(([a, problem], i) => {
      const r = out[i]!;
      expect(r.reqId, JSON.stringify(a)).toBe(`q${i}`);
      if (problem === null) expect(r, JSON.stringify(a)).toEqual({ success: true, reqId: `q${i}` });
      else {
        expect(r.success, JSON.stringify(a)).toBe(false);
        expect(r.error?.message, JSON.stringify(a)).toMatch(problem);
      }
    });
    const okCount = cases.filter(([, p]) => p === null).length;
    expect(sim.multi.stats).toMatchObject({ applied: okCount, failed: cases.length - okCount });
  });

  it('warns "Past event detected (N days ago). Rewriting timestamp." for events older than 365 days at its clock', async () => {
    const t = now();
    const out = await answers(
      await post([
        track('w', 0, { time: t - 364 * 86400 }),
        track('w', 1, { time: t - 366 * 86400 }),
        track('w', 2, { time: t - 731 * 86400 - 100 }),
        track('w', 3, { time: t - 365 * 86400 + 120 }),
        track('w', 4, { time: t - 365 * 86400 - 120 }),
      ]),
    );
    expect(out[3]).toEqual({ success: true, reqId: 'r-w-3' });
    expect(out[4]!.warning!.message).toBe('Past event detected (365 days ago). Rewriting timestamp.');
    expect(out[0]).toEqual({ success: true, reqId: 'r-w-0' });
    expect(out[1]).toEqual({ success: true, reqId: 'r-w-1', warning: { message: 'Past event detected (366 days ago). Rewriting timestamp.' } });
    expect(out[2]!.warning!.message).toBe('Past event detected (731 days ago). Rewriting timestamp.');
    expect(sim.multi.stats).toMatchObject({ applied: 5, warned: 3 });
  });

  it('setUserAttributes: checks the types, merges attributes, aggregates events', async () => {
    const out = await answers(
      await post([
        { action: 'setUserAttributes', userId: 's', userAttributes: { plan: 'gold', age: 31, vip: true, tags: ['a', 'b'] }, uuid: 'sa', reqId: '1' },
        {
          action: 'setUserAttributes',
          userId: 's',
          userAttributes: { plan: null, email: 'x@y' },
          userAttributeValuesToIncrement: { logins: 2 },
          uuid: 'sa',
          reqId: '2',
        },
        { action: 'setUserAttributes', userId: 's', events: { purchase: { count: 2, value: 10, firstTime: 100, lastTime: 200 } }, uuid: 'sa', reqId: '3' },
        { action: 'setUserAttributes', userId: 's', events: { purchase: { count: 1, value: 5, firstTime: 50, lastTime: 150 } }, uuid: 'sa', reqId: '4' },
        { action: 'setUserAttributes', userId: 's', userAttributes: { bad: { nested: 1 } }, uuid: 'sa', reqId: '5' },
        { action: 'setUserAttributes', userId: 's', userAttributes: 'plan=gold', uuid: 'sa', reqId: '6' },
        { action: 'setUserAttributes', userId: 's', events: { 'a|b': { count: 1 } }, uuid: 'sa', reqId: '7' },
        { action: 'setUserAttributes', userId: 's', events: { buy: { count: -1 } }, uuid: 'sa', reqId: '8' },
        { action: 'setUserAttributes', userId: 's', userAttributeValuesToIncrement: { logins: 1.5 }, uuid: 'sa', reqId: '9' },
        { action: 'setUserAttributes', userId: 's', created: '2020-01-01', uuid: 'sa', reqId: '10' },
      ]),
    );
    expect(out.slice(0, 4).every((r) => r.success && !r.warning && !r.error)).toBe(true);
    expect(out.slice(4).map((r) => r.error?.message)).toEqual([
      expect.stringMatching(/attribute "bad"/),
      'userAttributes must be a JSON object',
      expect.stringMatching(/^Invalid event name "a\|b"/),
      expect.stringMatching(/count must be a whole number/),
      expect.stringMatching(/must be an integer/),
      'Invalid created: must be a number',
    ]);
    // the second events entry replaces the first (the fields sent are set, not added)
    expect(sim.multi.users.get('s')).toEqual({
      attributes: { age: 31, vip: true, tags: ['a', 'b'], email: 'x@y', logins: 2 },
      events: { purchase: { count: 1, value: 5, firstTime: 50, lastTime: 150 } },
      fields: {},
    });
  });

  it('setUserAttributes: events set what they send, …Increment adds; fields kept; names, whole seconds and first ≤ last checked', async () => {
    const sua = (reqId: string, over: Action): Action => ({ action: 'setUserAttributes', userId: 'p', uuid: 'sb', reqId, ...over });
    const out = await answers(
      await post([
        sua('1', {
          created: 1_600_000_000,
          lastActive: 1_700_000_000,
          country: 'NL',
          locale: 'nl_NL',
          events: { buy: { count: 4, value: 9.5, firstTime: 10, lastTime: 20 } },
        }),
        sua('2', { events: { buy: { countIncrement: 2, valueIncrement: 0.5 }, open: { count: 1 } }, userAttributes: { plan: 'gold' } }),
        sua('3', { events: { buy: { lastTime: 30 } } }),
        sua('4', { userAttributes: { 'a|b': 1 } }),
        sua('5', { userAttributes: { '123': 'x' } }),
        sua('6', { created: 1_600_000_000.5 }),
        sua('7', { events: { buy: { firstTime: 40, lastTime: 30 } } }),
        sua('8', { events: { buy: { total: 3 } } }),
        sua('9', { country: 7 }),
        sua('10', { userAttributes: { 'dotted.name': 'kept as one name in JSON' } }),
      ]),
    );
    expect(out.slice(0, 3).every((r) => r.success && !r.error)).toBe(true);
    expect(out.slice(3, 9).map((r) => r.error?.message)).toEqual([
      expect.stringMatching(/^Invalid attribute name "a\|b": must not contain "\|"/),
      expect.stringMatching(/^Invalid attribute name "123": must not be purely numeric/),
      'Invalid created: must be whole UNIX seconds, got 1600000000.5',
      expect.stringMatching(/firstTime is after lastTime/),
      expect.stringMatching(/unknown field "total"/),
      'Invalid country: must be a string',
    ]);
    expect(out[9]).toEqual({ success: true, reqId: '10' });
    expect(sim.multi.users.get('p')).toEqual({
      attributes: { plan: 'gold', 'dotted.name': 'kept as one name in JSON' },
      events: { buy: { count: 6, value: 10, firstTime: 10, lastTime: 30 }, open: { count: 1, value: 0, firstTime: undefined, lastTime: undefined } },
      fields: { created: 1_600_000_000, lastActive: 1_700_000_000, country: 'NL', locale: 'nl_NL' },
    });
  });

  it('setUserAttributes: the same limits as track (51 users → 403, nothing applied), one lookup per unique user', async () => {
    const one = (u: number, i: number): Action => ({ action: 'setUserAttributes', userId: `u${u}`, userAttributes: { i }, uuid: 'sc', reqId: `${u}-${i}` });
    const over = await post(Array.from({ length: 51 }, (_, u) => one(u, 0)));
    expect(over.status).toBe(403);
    expect(sim.multi.users.size).toBe(0);
    const many = await post(Array.from({ length: 501 }, (_, i) => one(i % 3, i)));
    expect(many.status).toBe(403);
    const ok = await answers(await post(Array.from({ length: 500 }, (_, i) => one(i % 50, i))));
    expect(ok.every((r) => r.success)).toBe(true);
    expect(sim.multi.stats).toMatchObject({ status403: 2, billableLookups: 50, applied: 500 });
    expect(sim.multi.users.get('u7')!.attributes).toEqual({ i: 457 });
  });
});

describe('JSON multi: duplicates dropped by (uuid, reqId)', () => {
  it('an identical resend is answered success and applied once; a new reqId or uuid is applied again', async () => {
    const data = batch(3, 2, 'd1');
    await answers(await post(data));
    const again = await answers(await post(data));
    expect(again.every((r) => r.success && !r.error)).toBe(true);
    expect(sim.multi.stats).toMatchObject({ applied: 6, duplicates: 6 });
    await answers(
      await post([
        { ...data[0]!, reqId: 'other' },
        { ...data[1]!, uuid: 'd2' },
        { ...data[2]!, reqId: undefined },
      ]),
    );
    expect(sim.multi.stats).toMatchObject({ applied: 9, duplicates: 6 });
    // per user, in order, with uuid/reqId and time
    const u0 = sim.multi.applied.get('u0')!;
    expect(u0.map((a) => [a.uuid, a.reqId])).toEqual([
      ['d1', 'd1-0'],
      ['d1', 'd1-1'],
      ['d1', 'other'],
      ['d2', 'd1-1'],
    ]);
    expect(u0[0]).toMatchObject({ call: 1, index: 0, action: 'track', event: 'open', time: expect.any(Number) });
  });

  it('a failed action is not remembered: fixed and resent, it applies', async () => {
    sim.configureMulti({ failEvents: ['open'] });
    const a = track('f', 0, { uuid: 'fx', reqId: 'fx-0' });
    expect((await answers(await post([a])))[0]).toMatchObject({ success: false, error: { message: 'Event rejected: open' } });
    sim.configureMulti({ failEvents: [] });
    expect((await answers(await post([a])))[0]).toEqual({ success: true, reqId: 'fx-0' });
    expect(sim.multi.stats).toMatchObject({ applied: 1, failed: 1, duplicates: 0 });
  });
});

describe('JSON multi: strict device locking', () => {
  it('a call sharing a user with a running call gets 429, nothing applied; disjoint calls run together', async () => {
    sim.configureMulti({ latencyMs: 150 });
    const first = post([track('L1', 0), track('L2', 0)]);
    await new Promise((r) => setTimeout(r, 40));
    const [shared, disjoint] = await Promise.all([post([track('L3', 0), track('L2', 1)]), post([track('L4', 0)])]);
    expect(shared.status).toBe(429);
    expect(await message(shared)).toMatch(/user L2 \(strict device locking\)/);
    expect(await answers(disjoint)).toHaveLength(1);
    expect(await answers(await first)).toHaveLength(2);
    expect(sim.multi.stats).toMatchObject({ applied: 3, lockConflicts: 1, status429: 1, maxUsersInFlight: 3 });
    expect(sim.multi.stats.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(sim.multi.conflicts).toEqual([{ call: expect.any(Number), users: ['L2'] }]);
    expect(sim.multi.applied.has('L3')).toBe(false);
    expect(sim.multi.usersInFlight.size).toBe(0);
  });
});

describe('startApiSimulator (for the demo)', () => {
  it('starts a Leanplum for the API sink alone and answers a multi call with its Production key', async () => {
    const lp = await startApiSimulator({ appId: 'demo', prodKey: 'pk' });
    try {
      const r = await fetch(`${lp.apiUrl}?action=multi`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appId: lp.appId, clientKey: lp.prodKey, apiVersion: '1.0.6', time: now(), data: [track('x', 0)] }),
      });
      expect(await answers(r)).toEqual([{ success: true, reqId: 'r-x-0' }]);
      expect(lp.sim.multi.stats.applied).toBe(1);
    } finally {
      await lp.sim.stop();
    }
  });
});

describe('JSON multi: faults', () => {
  const ids = () => sim.multi.appliedActions().map((a) => a.reqId);

  it('429 with Retry-After for the next n calls, nothing applied; then served', async () => {
    sim.throttleMulti(2, 3);
    for (let i = 0; i < 2; i++) {
      const r = await post([track('t', 0)]);
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('3');
    }
    expect(await answers(await post([track('t', 0)]))).toHaveLength(1);
    expect(sim.multi.stats).toMatchObject({ calls: 3, status429: 2, lockConflicts: 0, applied: 1 });
  });

  it('503 for the next n calls, without Retry-After unless asked, nothing applied', async () => {
    sim.unavailableMulti(1);
    const r = await post([track('s', 0)]);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(sim.multi.stats).toMatchObject({ status503: 1, applied: 0 });
  });

  it('added latency: every call (latencyMs) or the next n (slow), with its users locked meanwhile', async () => {
    sim.configureMulti({ latencyMs: 120 });
    let t0 = performance.now();
    await answers(await post([track('a', 0)]));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
    sim.configureMulti({ latencyMs: 0 });
    sim.slowMulti(1, 300);
    t0 = performance.now();
    const slow = post([track('a', 1)]);
    await new Promise((r) => setTimeout(r, 100));
    expect((await post([track('a', 2)])).status).toBe(429);
    expect(await answers(await slow)).toHaveLength(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295);
    expect(ids()).toEqual(['r-a-0', 'r-a-1']);
  });

  it('answer lost after applying: the client sees a cut connection, the actions are applied; the identical resend is dropped as duplicates', async () => {
    sim.loseMultiAnswers(1);
    const data = batch(2, 3, 'lost');
    await expect(post(data)).rejects.toThrow();
    expect(sim.multi.stats).toMatchObject({ applied: 6, answersLost: 1 });
    expect(sim.multi.usersInFlight.size).toBe(0);
    const again = await answers(await post(data));
    expect(again.every((r) => r.success && !r.error && !r.warning)).toBe(true);
    expect(sim.multi.stats).toMatchObject({ applied: 6, duplicates: 6 });
    expect(ids()).toEqual(data.map((a) => a['reqId']));
  });

  it('a cut before handling applies nothing', async () => {
    sim.dropMulti(1);
    await expect(post([track('c', 0)])).rejects.toThrow();
    expect(sim.multi.stats.applied).toBe(0);
  });

  it('a rule fails actions by predicate (in code or over HTTP), the rest of the call applies', async () => {
    sim.multi.failWhen = (a) => (a['userId'] === 'p2' ? 'User is blocked' : undefined);
    const out1 = await answers(await post([track('p1', 0), track('p2', 0)]));
    expect(out1.map((r) => r.error?.message)).toEqual([undefined, 'User is blocked']);
    const cfg = await fetch(`${sim.url}/_sim/multi`, { method: 'POST', body: JSON.stringify({ failEvents: ['bad event'] }) });
    expect(cfg.status).toBe(200);
    const out2 = await answers(await post([track('p3', 0), track('p3', 1, { event: 'bad event' })]));
    expect(out2[1]).toEqual({ success: false, error: { message: 'Event rejected: bad event' }, reqId: 'r-p3-1' });
    expect(ids()).toEqual(['r-p1-0', 'r-p3-0']);
    const stats = (await (await fetch(`${sim.url}/_sim/multi`)).json()) as { stats: { applied: number; failed: number } };
    expect(stats.stats).toMatchObject({ applied: 2, failed: 2 });
    const applied = (await (await fetch(`${sim.url}/_sim/multi/applied`)).json()) as { reqId: string }[];
    expect(applied.map((a) => a.reqId)).toEqual(['r-p1-0', 'r-p3-0']);
  });

  it('echo mode: every JSON multi error answer quotes the key it received', async () => {
    sim.echoKey = true;
    const wrong = await post([track('e', 0)], { clientKey: 'wrong-key-xyz' });
    expect(await message(wrong)).toContain('wrong-key-xyz');
    expect(await message(await post([track('e', 0)], { clientKey: APP.devKey }))).toContain(APP.devKey);
    expect(await message(await post(batch(51, 1)))).toContain(APP.prodKey);
    sim.throttleMulti(1, 1);
    expect(await message(await post([track('e', 0)]))).toContain(APP.prodKey);
    sim.unavailableMulti(1);
    expect(await message(await post([track('e', 0)]))).toContain(APP.prodKey);
    sim.configureMulti({ latencyMs: 100 });
    const running = post([track('e', 1)]);
    await new Promise((r) => setTimeout(r, 30));
    expect(await message(await post([track('e', 2)]))).toContain(APP.prodKey);
    await running;
  });

  it('reqId echo can be turned off (answers matched by index only); order stays the request order', async () => {
    sim.configureMulti({ echoReqId: false });
    const out = await answers(await post([track('n', 0), track('n', 1, { event: '' })]));
    expect(out).toEqual([{ success: true }, { success: false, error: { message: 'event is required' } }]);
  });

  it('answers out of request order when asked (reqId still echoed), nothing else changes', async () => {
    sim.configureMulti({ reorderAnswers: true });
    const out = await answers(await post([track('o', 0), track('o', 1, { event: '' }), track('o', 2)]));
    expect(out).toEqual([
      { success: true, reqId: 'r-o-2' },
      { success: false, error: { message: 'event is required' }, reqId: 'r-o-1' },
      { success: true, reqId: 'r-o-0' },
    ]);
    expect(sim.multi.appliedActions().map((a) => a.reqId)).toEqual(['r-o-0', 'r-o-2']);
  });

  it('its clock can run ahead (/_sim/config clockOffsetSeconds): a 364-day-old event then draws the warning', async () => {
    const t = now() - 364 * 86400;
    expect((await answers(await post([track('k', 0, { time: t })])))[0]!.warning).toBeUndefined();
    await fetch(`${sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 2 * 86400 }) });
    try {
      expect((await answers(await post([track('k', 1, { time: t })])))[0]!.warning?.message).toBe('Past event detected (366 days ago). Rewriting timestamp.');
    } finally {
      await fetch(`${sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 0 }) });
    }
  });

  it('a body that is not JSON is a 400, and a non-numeric top-level time too', async () => {
    const bad = await fetch(`${sim.apiUrl}?action=multi`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"appId":' });
    expect(bad.status).toBe(400);
    expect(await message(bad)).toMatch(/not valid JSON/);
    const time = await post([track('j', 0)], { time: '2024-01-01' });
    expect(time.status).toBe(400);
  });
});
