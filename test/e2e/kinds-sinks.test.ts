// The kinds that are not events through both sinks, as a user runs them (the built CLI): `run
// --kind totals` (and `--kind users`) through the CSV import job and through `--sink api`, on the
// stand-ins; what Leanplum's stand-in holds per user afterwards equals a hand-written expectation,
// and the two sinks leave the same state (issue 19).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';
import type { UserState } from '../stand-ins/leanplum-simulator-multi.js';

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 20 });
});
afterAll(() => s.stop());
beforeEach(() => s.sim.configureMulti({ reset: true, record: 'all', failEvents: [] }));

const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey, LEANPLUM_PROD_KEY: APP.prodKey });
const leanplum = () => ['--app-id', APP.id, '--api-url', s.sim.apiUrl];
const csvJob = () => ['--to', `gs://${BUCKET}/kinds-sinks`, ...leanplum(), '--poll-interval', '1s', '--timeout', '30s', '--yes'];
const apiSink = () => ['--sink', 'api', ...leanplum()];

const DAY = 86_400;
/** the import time: the last full hour (a run's --import-at must be near now) */
const T = Math.floor(Date.now() / 1000 / 3600) * 3600;
const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
const state = () => Object.fromEntries(s.sim.users) as Record<string, UserState>;

async function run(kind: string, csv: string, sink: string[], extra: string[] = [], name = 'input.csv') {
  const dir = await tempDir();
  const input = join(dir, name);
  await writeFile(input, csv);
  const out = join(dir, 'run');
  const r = await runCli(['run', input, '--out', out, '--kind', kind, '--import-at', iso(T), '--max-reject-rate', '1', ...sink, ...extra], { env: env() });
  return { r, out, clean: await readFile(join(out, 'clean.csv'), 'utf8').catch(() => '') };
}

// three users, two events; w's purchase two years ago is clamped to T − 360 days (the time rule)
const TOTALS_INPUT = [
  'userId,event,time,value',
  `v,purchase,${iso(T - 3 * DAY)},2.5`,
  `v,open app,${iso(T - 2 * DAY)},`,
  `v,purchase,${iso(T - 1 * DAY)},0.25`,
  `w,purchase,${iso(T - 730 * DAY)},10`,
  `w,purchase,${iso(T - 5 * DAY)},0.1`,
  `w,purchase,${iso(T - 4 * DAY)},0.2`,
  `"x,1",open app,${iso(T - 6 * DAY)},`,
].join('\n');
const CLAMPED = T - 360 * DAY;
const TOTALS_STATE: Record<string, UserState> = {
  v: {
    attributes: {},
    fields: {},
    events: {
      purchase: { count: 2, firstTime: T - 3 * DAY, lastTime: T - DAY, value: 2.75 },
      'open app': { count: 1, firstTime: T - 2 * DAY, lastTime: T - 2 * DAY, value: 0 },
    },
  },
  w: { attributes: {}, fields: {}, events: { purchase: { count: 3, firstTime: CLAMPED, lastTime: T - 4 * DAY, value: 10.3 } } },
  'x,1': { attributes: {}, fields: {}, events: { 'open app': { count: 1, firstTime: T - 6 * DAY, lastTime: T - 6 * DAY, value: 0 } } },
};

describe('--kind totals through both sinks', () => {
  it('the CSV import job (defaultAction=setUserAttributes): Leanplum holds each user’s aggregates', async () => {
    const { r, out } = await run('totals', TOTALS_INPUT, csvJob());
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const job = [...s.sim.jobs.values()].find((j) => j.file === m.parts[0].object)!;
    expect(job).toMatchObject({ defaultAction: 'setUserAttributes', state: 'FINISHED', successes: 3, failures: 0, billableLookups: 3 });
    expect(state()).toEqual(TOTALS_STATE);
  });

  it('the API sink: one setUserAttributes action per user, in one call; the same state; a rerun sends nothing', async () => {
    const { r, out, clean } = await run('totals', TOTALS_INPUT, apiSink());
    expect(r.code, r.stderr).toBe(0);
    expect(clean.trim().split('\n')).toHaveLength(4);
    const applied = s.sim.multi.appliedActions();
    expect(applied.map((a) => [a.action, a.userId])).toEqual([
      ['setUserAttributes', 'v'],
      ['setUserAttributes', 'w'],
      ['setUserAttributes', 'x,1'],
    ]);
    // an event the user does not have is not sent at all; the value with the digits of the sum
    expect(applied[0]!.data['events']).toEqual({
      'open app': { count: 1, firstTime: T - 2 * DAY, lastTime: T - 2 * DAY },
      purchase: { count: 2, firstTime: T - 3 * DAY, lastTime: T - DAY, value: 2.75 },
    });
    expect(s.sim.multi.stats).toMatchObject({ calls: 1, applied: 3, failed: 0, billableLookups: 3 });
    expect(state()).toEqual(TOTALS_STATE);
    const summary = JSON.parse(await readFile(join(out, 'results', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ sink: 'api', sent: 3, ok: 3, failed: 0, billableLookups: 3 });
    const again = await runCli(['send', out, ...leanplum()], { env: env() });
    expect(again.code, again.stderr).toBe(0);
    expect(s.sim.multi.stats.calls).toBe(1);
  });

  it('a row Leanplum refuses comes back per row in server-rejects.csv with its source line (exit 5), the rest applied', async () => {
    s.sim.multi.failWhen = (a) => (a['userId'] === 'w' ? 'User rejected: w' : undefined);
    try {
      const { r, out } = await run('totals', TOTALS_INPUT, apiSink());
      expect(r.code).toBe(5);
      const rejects = await readFile(join(out, 'server-rejects.csv'), 'utf8');
      expect(rejects.split('\n')[1]).toMatch(/^clean\.csv,2,[^,]*input\.csv,5,error,User rejected: w,w,,,,,3,/);
      expect(Object.keys(state())).toEqual(['v', 'x,1']);
    } finally {
      s.sim.multi.failWhen = undefined;
    }
  });
});

// NDJSON keeps the values' types (a CSV cell is always text); the second a1 record is later and wins
// for plan; b2 has no time (older than any timed record); a null sets nothing; an object is flattened with _
const USERS_INPUT = [
  {
    userId: 'a1',
    created: '2024-03-01T09:00:00Z',
    country: 'NO',
    plan: 'team',
    age: 31,
    vip: true,
    tags: ['x', 'y'],
    scores: [1, 2.5],
    zip: '02139',
    updated: '2024-05-01T00:00:00Z',
  },
  { userId: 'b2', plan: 'free', age: null, address: { city: 'Oslo' } },
  { userId: 'a1', plan: 'pro', vip: null, updated: '2024-06-01T00:00:00Z' },
]
  .map((r) => JSON.stringify(r))
  .join('\n');
const USERS_MAP = ['--map', 'time=updated'];
const USERS_STATE: Record<string, UserState> = {
  a1: {
    attributes: { plan: 'pro', age: 31, vip: true, tags: ['x', 'y'], scores: [1, 2.5], zip: '02139' },
    fields: { created: 1709283600, country: 'NO' },
    events: {},
  },
  b2: { attributes: { plan: 'free', address_city: 'Oslo' }, fields: {}, events: {} },
};
const sorted = (st: Record<string, UserState>) =>
  Object.fromEntries(Object.entries(st).map(([u, v]) => [u, { ...v, attributes: Object.fromEntries(Object.entries(v.attributes).sort()) }]));

describe('--kind users through both sinks', () => {
  it('the CSV import job: each user’s fields and attributes as Leanplum holds them', async () => {
    const { r, out, clean } = await run('users', USERS_INPUT, csvJob(), USERS_MAP, 'people.ndjson');
    expect(r.code, r.stderr).toBe(0);
    expect(clean.split('\n')[0]).toBe(
      'userId,created,country,userAttributes.address_city,userAttributes.age,userAttributes.plan,userAttributes.scores,userAttributes.tags,userAttributes.vip,userAttributes.zip',
    );
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const job = [...s.sim.jobs.values()].find((j) => j.file === m.parts[0].object)!;
    expect(job).toMatchObject({ defaultAction: 'setUserAttributes', state: 'FINISHED', successes: 2, failures: 0, billableLookups: 2 });
    expect(sorted(state())).toEqual(sorted(USERS_STATE));
  });

  it('the API sink: one typed setUserAttributes action per user; the same state', async () => {
    const { r } = await run('users', USERS_INPUT, apiSink(), USERS_MAP, 'people.ndjson');
    expect(r.code, r.stderr).toBe(0);
    const applied = s.sim.multi.appliedActions();
    expect(applied.map((a) => a.userId)).toEqual(['a1', 'b2']);
    const { reqId, uuid, ...a1 } = applied[0]!.data;
    expect(typeof reqId === 'string' && typeof uuid === 'string').toBe(true);
    expect(a1).toEqual({
      action: 'setUserAttributes',
      userId: 'a1',
      created: 1709283600,
      country: 'NO',
      userAttributes: { age: 31, plan: 'pro', scores: [1, 2.5], tags: ['x', 'y'], vip: true, zip: '02139' },
    });
    expect(s.sim.multi.stats).toMatchObject({ calls: 1, applied: 2, failed: 0, billableLookups: 2 });
    expect(sorted(state())).toEqual(sorted(USERS_STATE));
  });

  it('--clear-empty through the API sink: an attribute the latest record empties is sent as null and cleared; the others stay', async () => {
    expect((await run('users', USERS_INPUT, apiSink(), USERS_MAP, 'people.ndjson')).r.code).toBe(0);
    const later = JSON.stringify({ userId: 'a1', plan: null, tags: [], age: 32, updated: '2024-07-01T00:00:00Z' });
    const { r, clean } = await run('users', later, apiSink(), [...USERS_MAP, '--clear-empty'], 'later.ndjson');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe('userId,userAttributes.age,userAttributes.plan,userAttributes.tags,clearUserAttributes\na1,32,,,"[plan, tags]"\n');
    expect(s.sim.multi.appliedActions().at(-1)!.data['userAttributes']).toEqual({ age: 32, plan: null, tags: null });
    expect(sorted(state())).toEqual(
      sorted({ ...USERS_STATE, a1: { ...USERS_STATE['a1']!, attributes: { age: 32, vip: true, scores: [1, 2.5], zip: '02139' } } }),
    );
  });

  it('a users run never goes stale (no time in it was clamped): sent weeks after its import time; a totals run of that age is refused', async () => {
    const past = ['--import-at', iso(T - 30 * DAY)];
    const dir = await tempDir();
    const input = join(dir, 'people.ndjson');
    await writeFile(input, USERS_INPUT);
    const users = await runCli(['run', input, '--out', join(dir, 'users'), '--kind', 'users', ...USERS_MAP, ...past, ...apiSink()], { env: env() });
    expect(users.code, users.stderr).toBe(0);
    expect(users.stdout + users.stderr).not.toContain('STALE');
    expect(sorted(state())).toEqual(sorted(USERS_STATE));
    const totalsInput = join(dir, 'events.csv');
    await writeFile(totalsInput, TOTALS_INPUT.replace(/,\d{4}-\d\d-\d\dT[^,]*Z,/g, `,${iso(T - 60 * DAY)},`));
    const totals = await runCli(['run', totalsInput, '--out', join(dir, 'totals'), '--kind', 'totals', ...past, '--max-reject-rate', '1', ...apiSink()], {
      env: env(),
    });
    expect(totals.code).toBe(2);
    expect(totals.stderr).toContain('CLAMP_STALE');
  });
});
