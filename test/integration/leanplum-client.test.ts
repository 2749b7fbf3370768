import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import type { BackfillError } from '../../src/errors.js';
import { makeStorage, uploadFile } from '../../src/gcs/storage.js';
import { LeanplumClient } from '../../src/leanplum/client.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';
import { LeanplumSimulator } from '../stand-ins/leanplum-simulator.js';

let s: Awaited<ReturnType<typeof startServers>>;
let object: string;
const delays: number[] = [];
const client = (o: Partial<ConstructorParameters<typeof LeanplumClient>[0]> = {}) =>
  new LeanplumClient({ apiUrl: s.sim.apiUrl, appId: APP.id, clientKey: APP.devKey, sleep: async (ms) => void delays.push(ms), timeoutMs: 2000, ...o });
const catchErr = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as BackfillError,
  );

beforeAll(async () => {
  s = await startServers({ stepMs: 20 });
  const dir = await tempDir();
  const path = join(dir, 'clean.csv');
  const now = Math.floor(Date.now() / 1000);
  await writeFile(path, `userId,event,time\nu1,open,${now - 86400}\nu2,open,${now - 400 * 86400}\nu3,,${now}\n`);
  object = 'runs/t/clean.csv';
  await uploadFile(makeStorage({ apiEndpoint: s.gcs.url, projectId: 't' }), path, { bucket: BUCKET, name: object });
});
afterAll(() => s.stop());
beforeEach(() => {
  delays.length = 0;
  s.sim.faults.clear();
  s.sim.stuckPending = false;
});

async function finished(c: LeanplumClient, jobId: string) {
  let st = await c.status(jobId);
  await until(async () => (st = await c.status(jobId)).state === 'FINISHED' || st.state === 'FAILED', `job ${jobId} ends`);
  return st;
}

describe('Leanplum client against the simulator', () => {
  it('launches, follows the job and reads per-row results (errors and the Past event warning)', async () => {
    const c = client();
    const { jobId } = await c.launch({ bucket: BUCKET, file: object });
    const st = await finished(c, jobId);
    expect(st).toMatchObject({ state: 'FINISHED', successes: 2, failures: 1 });
    const lines = (await c.fetchResults(st.files![0]!))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ success: true });
    expect(lines[1].warning.message).toMatch(/^Past event detected \(400 days ago\)\. Rewriting timestamp\.$/);
    expect(lines[2]).toMatchObject({ success: false, error: { message: 'event is required' } });
  });

  it.each([
    ['429', { kind: 'status', status: 429 }],
    ['500', { kind: 'status', status: 500 }],
    ['a dropped connection', { kind: 'drop' }],
    ['malformed JSON', { kind: 'malformed' }],
  ] as const)('retries a status poll after %s, with backoff', async (_name, fault) => {
    const c = client();
    const { jobId } = await c.launch({ bucket: BUCKET, file: object });
    s.sim.faults.add({ match: 'getMultiResults', times: 2, ...fault });
    const st = await finished(c, jobId);
    expect(st.state).toBe('FINISHED');
    expect(delays.length).toBe(2);
    expect(delays[1]!).toBeGreaterThanOrEqual(delays[0]! / 2);
  });

  it.each([429, 503])("waits at least as long as a %i's Retry-After says (and longer than its backoff would)", async (status) => {
    const c = client();
    const { jobId } = await c.launch({ bucket: BUCKET, file: object });
    // 40 s: far above the first backoff (1–2 s), so only the header can explain the wait
    s.sim.faults.add({ match: 'getMultiResults', kind: 'status', status, retryAfterSeconds: 40, times: 1 });
    expect((await finished(c, jobId)).state).toBe('FINISHED');
    expect(delays).toEqual([40_000]);
  });

  it('gives up when Retry-After asks for longer than it waits (5 min), and says how long was asked', async () => {
    const c = client();
    const { jobId } = await c.launch({ bucket: BUCKET, file: object });
    s.sim.faults.add({ match: 'getMultiResults', kind: 'status', status: 429, retryAfterSeconds: 3600, times: 1 });
    const e = await catchErr(c.status(jobId));
    expect(e.code).toBe('LEANPLUM_FAILED');
    expect(e.message).toContain('Leanplum asked to wait 3600 s');
    expect(delays).toEqual([]);
  });

  it('retries a slow status answer that hits the request timeout', async () => {
    // the slow answer never comes in time; the retried one has all the time a loaded machine needs
    const c = client({ timeoutMs: 1500 });
    const { jobId } = await c.launch({ bucket: BUCKET, file: object });
    s.sim.faults.add({ match: 'getMultiResults', kind: 'slow', delayMs: 30_000, times: 1 });
    expect((await finished(c, jobId)).state).toBe('FINISHED');
    expect(delays.length).toBe(1);
  });

  it('gives up on a status that keeps failing, with a code and no key in the message', async () => {
    const c = client();
    const { jobId } = await c.launch({ bucket: BUCKET, file: object });
    s.sim.faults.add({ match: 'getMultiResults', kind: 'status', status: 503, times: 100 });
    const e = await catchErr(c.status(jobId));
    expect(e.code).toBe('LEANPLUM_FAILED');
    expect(delays.length).toBe(5);
    expect(e.message).not.toContain(APP.devKey);
  });

  it('never retries the launch: a 500 or a dropped answer is an unknown outcome, seen once by the server', async () => {
    for (const fault of [{ kind: 'status', status: 500 }, { kind: 'drop' }, { kind: 'malformed' }] as const) {
      const before = s.sim.jobs.size;
      s.sim.faults.clear();
      s.sim.faults.add({ match: 'multi', times: 1, ...fault });
      const e = await catchErr(client().launch({ bucket: BUCKET, file: object }));
      expect(e.code).toBe('LAUNCH_UNKNOWN');
      // the client knows no run: the launch stage adds the two ways out (--adopt-job, --relaunch-unknown)
      expect(e.hint).toMatch(/Do not launch again blindly/);
      expect(delays).toEqual([]);
      // the 500/drop fault fires before the job is created; malformed too: no second request either
      expect(s.sim.jobs.size).toBe(before);
    }
  });

  it('a slow launch answer past the timeout is unknown, although the server created the job', async () => {
    const before = s.sim.jobs.size;
    s.sim.faults.add({ match: 'multi', kind: 'slow', delayMs: 1500, times: 1 });
    const e = await catchErr(client({ timeoutMs: 500 }).launch({ bucket: BUCKET, file: object }));
    expect(e.code).toBe('LAUNCH_UNKNOWN');
    await until(() => s.sim.jobs.size === before + 1, 'the server, done with its slow answer, has created the job');
  });

  it('a 429 on launch means nothing was created, and is not retried', async () => {
    s.sim.faults.add({ match: 'multi', kind: 'status', status: 429, times: 1 });
    const e = await catchErr(client().launch({ bucket: BUCKET, file: object }));
    expect(e.code).toBe('LEANPLUM_FAILED');
    expect(e.message).toContain('no job was created');
  });

  it('a wrong or Production key is refused with a hint and never echoed', async () => {
    for (const key of ['wrong-key-abcdef', APP.prodKey]) {
      const e = await catchErr(client({ clientKey: key }).launch({ bucket: BUCKET, file: object }));
      expect(e.code).toBe('LEANPLUM_FAILED');
      expect(e.hint).toMatch(/Development key/);
      expect(`${e.message} ${e.hint}`).not.toContain(key);
    }
    const e = await catchErr(client({ appId: 'nope' }).launch({ bucket: BUCKET, file: object }));
    expect(e.message).toContain('App not found');
  });

  it('a missing object makes the job FAIL with a reason', async () => {
    const c = client();
    const { jobId } = await c.launch({ bucket: BUCKET, file: 'runs/none/clean.csv' });
    const st = await finished(c, jobId);
    expect(st.state).toBe('FAILED');
    expect(st.error).toMatch(/Could not read gs:\/\/lp-test-bucket\/runs\/none\/clean.csv \(HTTP 404\)/);
  });

  it('the simulator enforces the JSON multi limits: 50 users / 500 actions, else 403 for the whole batch', async () => {
    const post = (data: unknown[]) =>
      fetch(s.sim.apiUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appId: APP.id, clientKey: APP.prodKey, apiVersion: '1.0.6', action: 'multi', time: Date.now() / 1000, data }),
      });
    const t = Math.floor(Date.now() / 1000);
    const users = (n: number, per: number) => Array.from({ length: n * per }, (_, i) => ({ action: 'track', userId: `u${i % n}`, event: 'open', time: t }));
    expect((await post(users(51, 1))).status).toBe(403);
    expect((await post(users(50, 11))).status).toBe(403);
    const ok = await post([...users(50, 10), { action: 'track', userId: 'u1', event: '', time: t }].slice(1));
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { response: { success: boolean }[] };
    expect(body.response).toHaveLength(500);
    expect(body.response.at(-1)).toMatchObject({ success: false });
  });

  it('the simulator checks rows against the documented limits on its own', async () => {
    const t = Math.floor(Date.now() / 1000);
    const act = (over: Record<string, unknown>) => ({ action: 'track', userId: 'u1', event: 'open', time: t, ...over });
    const params = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 'x']));
    const cases: [Record<string, unknown>, RegExp | null][] = [
      [act({}), null],
      [act({ event: 'e'.repeat(139) }), null],
      [act({ event: 'e'.repeat(140) }), /event name/],
      [act({ event: '.hidden' }), /event name/],
      [act({ event: '-x' }), /event name/],
      [act({ event: 'a/' }), /event name/],
      [act({ event: '12' }), /event name/],
      [act({ event: '1.5' }), /event name/],
      [act({ event: 'level 12' }), null],
      ...[',', '|', '"', '{', '\t', '\n'].map((c): [Record<string, unknown>, RegExp] => [act({ event: `a${c}b` }), /event name/]),
      [act({ userId: 'u'.repeat(400) }), null],
      [act({ userId: 'u'.repeat(401) }), /userId/],
      [act({ params: params(50) }), null],
      [act({ params: params(51) }), /Too many parameters/],
      [act({ params: { 'bad|name': 1 } }), /parameter name/],
      [act({ value: 'abc' }), /value/],
      [act({ currencyCode: 'usd' }), /currencyCode/],
      [act({ time: 'yesterday' }), /time/],
    ];
    const res = await fetch(s.sim.apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: APP.id, clientKey: APP.prodKey, apiVersion: '1.0.6', action: 'multi', time: t, data: cases.map(([a]) => a) }),
    });
    const body = (await res.json()) as { response: { success: boolean; error?: { message: string } }[] };
    cases.forEach(([a, problem], i) => {
      const r = body.response[i]!;
      if (problem === null) expect(r, JSON.stringify(a)).toEqual({ success: true });
      else expect(r.error?.message, JSON.stringify(a)).toMatch(problem);
    });
  });

  describe('echo mode: error answers quote the key, as a careless server would', () => {
    const form = (f: Record<string, string>) =>
      fetch(s.sim.apiUrl, { method: 'POST', body: new URLSearchParams({ apiVersion: '1.0.6', appId: APP.id, clientKey: APP.devKey, ...f }) });
    const message = async (r: Response) => ((await r.json()) as { response: { error: { message: string } }[] }).response[0]!.error.message;
    const setEcho = (on: boolean) => fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ echoKey: on }) });

    it('off by default: no answer holds the key', async () => {
      expect(await message(await form({ action: 'getMultiResults', jobId: 'none' }))).toBe('Job not found');
      expect(await message(await form({ action: 'multi', clientKey: 'wrong-key-abcdef', createJob: 'true' }))).toBe('Invalid access key');
    });

    it('on (through /_sim/config): 400/401/404/429/500 and injected faults quote the key they received', async () => {
      await setEcho(true);
      try {
        const bad = 'wrong-key-abcdef';
        const wrongKey = await form({ action: 'multi', clientKey: bad, createJob: 'true' });
        expect(wrongKey.status).toBe(401);
        expect(await message(wrongKey)).toBe(`Invalid access key "${bad}"`);
        expect(await message(await form({ action: 'multi', appId: 'nope', createJob: 'true' }))).toBe(`App not found: nope (key ${APP.devKey})`);
        expect(await message(await form({ action: 'getMultiResults', jobId: 'none' }))).toBe(`Job not found (request from key ${APP.devKey})`);
        expect(await message(await form({ action: 'frobnicate' }))).toContain(APP.devKey);
        for (const status of [429, 500]) {
          s.sim.faults.add({ match: 'getMultiResults', kind: 'status', status, times: 1 });
          const r = await form({ action: 'getMultiResults', jobId: 'none' });
          expect(r.status).toBe(status);
          expect(await message(r)).toContain(APP.devKey);
        }
      } finally {
        await setEcho(false);
      }
    });

    it("on (constructor option): a FAILED job's error quotes the key", async () => {
      const own = new LeanplumSimulator({ apps: { [APP.id]: { devKey: APP.devKey, prodKey: APP.prodKey } }, gcsUrl: s.gcs.url, stepMs: 5, echoKey: true });
      await own.start();
      try {
        const c = client({ apiUrl: own.apiUrl });
        const { jobId } = await c.launch({ bucket: BUCKET, file: 'runs/none/echo.csv' });
        expect((await finished(c, jobId)).state).toBe('FAILED');
        // the raw answer, before the tool's own scrubbing
        const raw = await fetch(own.apiUrl, {
          method: 'POST',
          body: new URLSearchParams({ apiVersion: '1.0.6', appId: APP.id, clientKey: APP.devKey, action: 'getMultiResults', jobId }),
        });
        expect(await raw.json()).toMatchObject({ response: [{ state: 'FAILED', error: { message: expect.stringContaining(APP.devKey) } }] });
        const tooBig = await fetch(own.apiUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            appId: APP.id,
            clientKey: APP.prodKey,
            apiVersion: '1.0.6',
            action: 'multi',
            data: Array.from({ length: 51 }, (_, i) => ({ userId: `u${i}`, event: 'open', time: 1 })),
          }),
        });
        expect(tooBig.status).toBe(403);
        expect(await message(tooBig)).toContain(APP.prodKey);
      } finally {
        await own.stop();
      }
    });
  });

  it('a status fault can carry Retry-After, and carries none unless asked', async () => {
    const status = (f: Record<string, string>) =>
      fetch(s.sim.apiUrl, {
        method: 'POST',
        body: new URLSearchParams({ apiVersion: '1.0.6', appId: APP.id, clientKey: APP.devKey, action: 'getMultiResults', jobId: 'none', ...f }),
      });
    s.sim.faults.add({ match: 'getMultiResults', kind: 'status', status: 429, retryAfterSeconds: 7, times: 1 });
    const r = await status({});
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    s.sim.faults.add({ match: 'getMultiResults', kind: 'status', status: 503, times: 1 });
    const plain = await status({});
    expect(plain.status).toBe(503);
    expect(plain.headers.get('retry-after')).toBeNull();
  });
});
