import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeanplumSimulator } from '../stand-ins/leanplum-simulator.js';

// The Leanplum stand-in's CSV job with defaultAction=setUserAttributes is test equipment for the
// users and totals kinds; its contract (shared/LEANPLUM-API.md "setUserAttributes", VENDOR-PROFILES.md
// §0) is shown to hold here with plain fetch and a tiny object server, not the tool's code.
const APP = { id: 'app-users', devKey: 'dev-SECRET-users-1111', prodKey: 'prod-SECRET-users-2222' };
const objects = new Map<string, string>();
let files: Server;
let filesUrl = '';
let sim: LeanplumSimulator;

type Job = { state: string; error?: { message: string }; data?: { successesCount: number; failuresCount: number; files: string[] } };

async function call(fields: Record<string, string>): Promise<Record<string, unknown>> {
  const r = await fetch(sim.apiUrl, {
    method: 'POST',
    body: new URLSearchParams({ appId: APP.id, clientKey: APP.devKey, apiVersion: '1.0.6', ...fields }),
  });
  return ((await r.json()) as { response: Record<string, unknown>[] }).response[0]!;
}

/** Puts `csv` where the stand-in reads it, launches a job, waits for its end. */
async function importCsv(csv: string, defaultAction = 'setUserAttributes'): Promise<{ job: Job; results: Record<string, unknown>[]; jobId: string }> {
  const file = `imports/f${objects.size}.csv`;
  objects.set(`/bucket/${file}`, csv);
  const launched = await call({ action: 'multi', createJob: 'true', defaultAction, gcsBucket: 'bucket', file });
  expect(launched['success'], JSON.stringify(launched)).toBe(true);
  const jobId = launched['jobId'] as string;
  for (;;) {
    const job = (await call({ action: 'getMultiResults', jobId })) as unknown as Job;
    if (job.state === 'FAILED') return { job, results: [], jobId };
    if (job.state === 'FINISHED') {
      const text = await (await fetch(job.data!.files[0]!)).text();
      return {
        job,
        results:
          text.trim() === ''
            ? []
            : text
                .trim()
                .split('\n')
                .map((l) => JSON.parse(l) as Record<string, unknown>),
        jobId,
      };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
const errors = (results: Record<string, unknown>[]) => results.map((r) => (r['success'] === true ? 'ok' : (r['error'] as { message: string }).message));

beforeAll(async () => {
  files = createServer((req, res) => {
    const body = objects.get(decodeURIComponent(req.url ?? ''));
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/csv' }).end(body);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  const addr = files.address();
  filesUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  sim = new LeanplumSimulator({ apps: { [APP.id]: { devKey: APP.devKey, prodKey: APP.prodKey } }, gcsUrl: filesUrl, stepMs: 5 });
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
  files.closeAllConnections();
  await new Promise((r) => files.close(r));
});
beforeEach(() => sim.configureMulti({ reset: true }));

describe('CSV job, defaultAction=setUserAttributes: user data', () => {
  it('applies each row: only the attributes sent change, an empty cell is not sent, cells typed; fields and lists', async () => {
    const first = await importCsv(
      [
        'userId,created,lastActive,country,userAttributes.plan,userAttributes.age,userAttributes.vip,userAttributes.friends,userAttributes.zip',
        'u1,1483228800,1496275200,NL,gold,24,true,"[Jimmy, Sara, Amy]",02139',
        'u2,,,,silver,,,,',
      ].join('\n'),
    );
    expect(first.job.data).toMatchObject({ successesCount: 2, failuresCount: 0 });
    const second = await importCsv(['userId,userAttributes.plan,userAttributes.email', 'u1,,a@b.example', 'u2,bronze,'].join('\n'));
    expect(errors(second.results)).toEqual(['ok', 'ok']);
    expect(Object.fromEntries(sim.users)).toEqual({
      u1: {
        attributes: { plan: 'gold', age: 24, vip: true, friends: ['Jimmy', 'Sara', 'Amy'], zip: '02139', email: 'a@b.example' },
        events: {},
        fields: { created: 1483228800, lastActive: 1496275200, country: 'NL' },
      },
      u2: { attributes: { plan: 'bronze' }, events: {}, fields: {} },
    });
    // the same store over HTTP
    expect(((await (await fetch(`${sim.url}/_sim/users`)).json()) as Record<string, { attributes: unknown }>)['u2']!.attributes).toEqual({ plan: 'bronze' });
  });

  it('per-row failures in the results, in row order: created not whole seconds, a short row, an empty userId', async () => {
    const { job, results } = await importCsv(
      ['userId,created,userAttributes.plan', 'a,1483228800.5,x', 'b,1483228800', 'c,1483228800000,y', ',1,z', 'd,2023-01-01,w'].join('\n'),
    );
    expect(job.data).toMatchObject({ successesCount: 1, failuresCount: 4 });
    expect(errors(results)).toEqual([
      'Invalid created: must be whole UNIX seconds, got "1483228800.5"',
      'Row has 2 fields, header has 3',
      'ok',
      'userId is required',
      'Invalid created: must be whole UNIX seconds, got "2023-01-01"',
    ]);
    expect([...sim.users.keys()]).toEqual(['c']);
  });

  it('the header is judged once: userId not first, an unknown column, a dotted or invalid attribute name, a repeated column fail the job', async () => {
    const failed = async (header: string) => {
      const { job } = await importCsv(
        `${header}\n${header
          .split(',')
          .map(() => '1')
          .join(',')}`,
      );
      expect(job.state, header).toBe('FAILED');
      return job.error!.message;
    };
    expect(await failed('userAttributes.plan,userId')).toMatch(/^userId must be the first column/);
    expect(await failed('userId,email')).toBe('Unknown column "email" for setUserAttributes');
    expect(await failed('userId,userAttributes.address.city')).toMatch(/a dot nests/);
    expect(await failed('userId,userAttributes.a|b')).toMatch(/invalid attribute name: must not contain "\|"/);
    expect(await failed('userId,userAttributes.x,userAttributes.x')).toMatch(/appears twice/);
    expect(await failed('userId,events.buy.total')).toMatch(/expected events\.<name>\.count\|firstTime\|lastTime\|value/);
    expect(await failed('userId,events.-buy.count')).toMatch(/invalid event name: must not start with "-"/);
    expect(sim.users.size).toBe(0);
  });
});

describe('CSV job, defaultAction=setUserAttributes: aggregated events', () => {
  it('events.<name>.count|firstTime|lastTime|value set the aggregate; count whole ≥ 0; firstTime ≤ lastTime; per-row failures', async () => {
    const { job, results } = await importCsv(
      [
        'userId,events.buy.count,events.buy.firstTime,events.buy.lastTime,events.buy.value,events.open app.count,events.open app.firstTime,events.open app.lastTime,events.open app.value',
        'u1,3,1700000000,1700000500.25,12.5,1,1700000100,1700000100,',
        'u2,2.5,1,2,,,,,',
        'u3,-1,1,2,,,,,',
        'u4,1,20,10,,,,,',
        'u5,1,1,2,abc,,,,',
        'u6,,,,,7,100,200,0',
      ].join('\n'),
    );
    expect(errors(results)).toEqual([
      'ok',
      'Invalid events.buy.count: count must be a whole number ≥ 0, got "2.5"',
      'Invalid events.buy.count: count must be a whole number ≥ 0, got "-1"',
      'Invalid events entry "buy": firstTime is after lastTime',
      'Invalid events.buy.value: must be a number, got "abc"',
      'ok',
    ]);
    expect(job.data).toMatchObject({ successesCount: 2, failuresCount: 4 });
    expect(sim.users.get('u1')!.events).toEqual({
      buy: { count: 3, value: 12.5, firstTime: 1700000000, lastTime: 1700000500.25 },
      'open app': { count: 1, value: 0, firstTime: 1700000100, lastTime: 1700000100 },
    });
    expect(sim.users.get('u6')!.events).toEqual({ 'open app': { count: 7, value: 0, firstTime: 100, lastTime: 200 } });
    // imported again: the aggregate is set, not added to
    await importCsv(['userId,events.buy.count', 'u1,5'].join('\n'));
    expect(sim.users.get('u1')!.events['buy']).toEqual({ count: 5, value: 12.5, firstTime: 1700000000, lastTime: 1700000500.25 });
  });

  it('bills unique users per 50-row batch; a track job still imports as before', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => `u${Math.floor(i / 2)},${i}`);
    await importCsv(['userId,userAttributes.n', ...rows].join('\n'));
    expect([...sim.jobs.values()].at(-1)!.billableLookups).toBe(25 + 25 + 10);
    const t = Math.floor(Date.now() / 1000) - 60;
    const track = await importCsv(['userId,event,time', `u1,open,${t}`].join('\n'), 'track');
    expect(errors(track.results)).toEqual(['ok']);
    const other = await call({ action: 'multi', createJob: 'true', defaultAction: 'setDeviceAttributes', gcsBucket: 'bucket', file: 'x.csv' });
    expect(other['error']).toEqual({ message: 'this simulator imports defaultAction=track or setUserAttributes, not setDeviceAttributes' });
  });
});
