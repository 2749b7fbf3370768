// --kind through the built CLI (issue 19): the totals kind's exact clean.csv on a small CSV and on
// the Mixpanel sample (expected rows written by hand: import at 2026-11-20T00:00:00Z, so older
// events move to T − 360 days = 2025-11-25T00:00:00Z = 1764028800), the refusals (--order input,
// another kind on resume or send), and a totals run reaching the Leanplum stand-in as a
// setUserAttributes job.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, sample, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

const csv = (...rows: string[]) => rows.join('\n') + '\n';
/** A totals row: the user id, then per event of the header its four cells (empty: the user has none of it). */
const row = (user: string, ...events: ([string, string, string, string] | null)[]) => [user, ...events.flatMap((e) => e ?? ['', '', '', ''])].join(',');
const header = (...events: string[]) =>
  ['userId', ...events.flatMap((e) => ['count', 'firstTime', 'lastTime', 'value'].map((f) => `events.${e}.${f}`))].join(',');

async function transform(input: string, ...args: string[]) {
  const out = await tempDir();
  const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, '--max-reject-rate', '1', ...args]);
  const text = (name: string) => readFile(join(out, name), 'utf8');
  return {
    r,
    out,
    clean: await text('clean.csv').catch(() => ''),
    rejects: await text('rejects.csv').catch(() => ''),
    summary: JSON.parse(await text('summary.json').catch(() => '{}')),
    report: JSON.parse(await text('report.json').catch(() => '{}')),
  };
}

const SMALL = csv(
  'user,event,time,amount',
  'u2,buy,2026-09-01T10:00:00Z,1.10',
  'u1,open,2026-09-01T09:00:00Z,',
  'u2,buy,2026-09-02T10:00:00Z,2.20',
  'u1,open,2026-09-01T08:00:00Z,',
  'u2,open,2025-01-01T00:00:00Z,',
  'u1,a.b,2026-09-01T08:00:00Z,',
  'u3,buy,2026-09-03T00:00:00Z,0.1',
  'u3,buy,2026-09-03T00:00:00Z,0.2',
  '"u,4",open,2026-09-04T00:00:00Z,',
);
const SMALL_MAP = ['--map', 'userId=user', '--map', 'event=event', '--map', 'time=time', '--map', 'value=amount'];

describe('--kind totals (exact clean.csv)', () => {
  it('a small CSV: one row per user in code-point order, count/first/last/exact value sum, a clamped time as imported, a dotted name rejected', async () => {
    const input = join(await tempDir(), 'small.csv');
    await writeFile(input, SMALL);
    const { r, out, clean, rejects, summary, report } = await transform(input, ...SMALL_MAP, '--kind', 'totals');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('buy', 'open'),
        // "u,4" sorts first: "," (0x2C) is before "1" (0x31)
        row('"u,4"', null, ['1', '1788480000', '1788480000', '']),
        row('u1', null, ['2', '1788249600', '1788253200', '']),
        // 2025-01-01 is older than the cutoff: its time is the clamp target, as imported
        row('u2', ['2', '1788256800', '1788343200', '3.30'], ['1', '1764028800', '1764028800', '']),
        row('u3', ['2', '1788393600', '1788393600', '0.3'], null),
      ),
    );
    expect(rejects).toContain('dot_in_event_name');
    expect(rejects).toContain('rename the event in the export (e.g. \\"a_b\\")'.replaceAll('\\"', '""'));
    expect(summary.config.kind).toBe('totals');
    expect(summary.columns.slice(0, 5)).toEqual([
      { name: 'userId', type: 'string' },
      { name: 'events.buy.count', type: 'integer' },
      { name: 'events.buy.firstTime', type: 'epoch' },
      { name: 'events.buy.lastTime', type: 'epoch' },
      { name: 'events.buy.value', type: 'decimal' },
    ]);
    // the one quoted cell is the user id "u,4"
    expect(summary.counts).toMatchObject({
      read: 9,
      kept: 8,
      rejected: 1,
      dropped: 0,
      occurrences: 8,
      written: 4,
      lineIndexEntries: 4,
      valuesNeedingQuotes: 1,
    });
    expect(summary.conservation.ok).toBe(true);
    expect(summary.conservation.occurrences).toBe('written 4 = clean.lines 4 = users 4; folded into rows 8 = occurrences of kept rows 8');
    expect(summary.totals).toMatchObject({ eventNames: 2, users: 4, cells: 5, clampedFirstTimes: 1, clampedLastTimes: 1, usersWithClampedTimes: 1 });
    expect(summary.totals.occurrencesPerUser).toMatchObject({ min: 1, max: 3, mean: 2 });
    // the events file of the same rows: 8 rows of 4 users in one batch → 4; totals: 4 users
    expect(summary.cost.byKind).toEqual({ events: 4, totals: 4 });
    expect(report.cost.byKind).toEqual({ events: 4, totals: 4, totalsEstimated: false });
    expect(report.perUserTotals.users).toBe(4);
    // clean.lines: one entry per user row: where the user's first record (in sorted order) was read
    const lines = await readFile(join(out, 'clean.lines'));
    expect([0, 1, 2, 3].map((i) => [lines.readUInt32LE(i * 8), lines.readUInt32LE(i * 8 + 4)])).toEqual([
      [0, 10],
      [0, 5],
      [0, 6],
      [0, 8],
    ]);
  });

  it('mixpanel preset with --dedupe: names with spaces, a 19-digit id, the duplicate Purchase counted once, the pre-cutoff event clamped', async () => {
    const { r, clean, summary } = await transform(
      sample('mixpanel-export.ndjson'),
      '--preset',
      'mixpanel',
      '--dedupe',
      '--map',
      'value=properties.price',
      '--kind',
      'totals',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        header('Level Up', 'Purchase', 'Sign Up', 'Tutorial Done'),
        row('1234567890123456789', ['1', '1790965800', '1790965800', ''], null, null, null),
        row('u-100', null, ['1', '1790845800', '1790845800', '9.99'], ['1', '1790845200', '1790845200', ''], null),
        row('u-200', null, null, null, ['1', '1764028800', '1764028800', '']),
      ),
    );
    expect(summary.counts).toMatchObject({ read: 6, kept: 4, rejected: 1, dropped: 1, occurrences: 4, written: 3 });
    expect(summary.counts.droppedByReason.duplicate).toBe(1);
    expect(summary.totals).toMatchObject({ eventNames: 4, users: 3, clampedFirstTimes: 1, usersWithClampedTimes: 1 });
  });

  it('the events kind of an event export shows what totals would cost beside its own figure', async () => {
    const { r, out, summary, report } = await transform(sample('game-sessions.csv'), '--map', 'userId=player_id', '--map', 'time=timestamp');
    expect(r.code, r.stderr).toBe(0);
    expect(summary.config.kind).toBe('events');
    expect(summary.columns).toBeNull();
    // 200 rows of 20 players: 20 lookups as events grouped by user, 20 as one totals row each
    expect(summary.cost.byKind).toEqual({ events: 20, totals: 20 });
    expect(report.cost.byKind).toEqual({ events: 20, totals: 20, totalsEstimated: false });
    expect(r.stdout).toMatch(/as --kind totals: 20 billable lookups/);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/as --kind events \(one row per occurrence\)<\/td><td>20</);
    expect(html).toMatch(/as --kind totals \(one row per user[^<]*<\/td><td>20</);

    // --order input: the distinct users are not counted exactly; the preview report gives the estimate, marked
    const p = await tempDir();
    const pr = await runCli(['preview', sample('game-sessions.csv'), '--out', p, '--map', 'userId=player_id', '--map', 'time=timestamp', '--order', 'input']);
    expect(pr.code, pr.stderr).toBe(0);
    const ps = JSON.parse(await readFile(join(p, 'summary.json'), 'utf8'));
    const pj = JSON.parse(await readFile(join(p, 'report.json'), 'utf8'));
    expect(ps.cost.byKind).toEqual({ events: 80, totals: null });
    expect(pj.cost.byKind).toMatchObject({ events: 80, totalsEstimated: true });
    expect(pj.cost.byKind.totals).toBeGreaterThanOrEqual(19);
    expect(pj.cost.byKind.totals).toBeLessThanOrEqual(21);
    expect(pr.stdout).toContain('as --kind totals: not counted with --order input');
  });

  it('the report of a totals run: occurrences per user and clamped first/last times', async () => {
    const input = join(await tempDir(), 'small.csv');
    await writeFile(input, SMALL);
    const { r, out } = await transform(input, ...SMALL_MAP, '--kind', 'totals');
    expect(r.code, r.stderr).toBe(0);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('Totals: one row per user');
    expect(html).toMatch(/occurrences per user: min \/ mean \/ max<\/td><td>1 \/ 2\.0 \/ 3</);
    expect(html).toMatch(/users with 2–10 occurrence\(s\)<\/td><td>3</);
    expect(html).toMatch(/firstTime cells holding a clamped time<\/td><td>1</);
    expect(r.stdout).toContain(
      'written    4 rows, one per user (--kind totals): 8 occurrences of 2 event name(s); 1 firstTime and 1 lastTime cells hold a clamped time',
    );
  });

  // review of issue 19: the report's shares were taken of the rows written, which for totals are
  // users: "200.00% of the events written are older than 7 days"; and it advised --param for totals.
  it('the report of a totals run: the 7-day share is of the occurrences (≤ 100%), the columns left out are not sent to --param', async () => {
    const input = join(await tempDir(), 'small.csv');
    await writeFile(input, SMALL);
    const { r, report } = await transform(input, ...SMALL_MAP, '--kind', 'totals');
    expect(r.code, r.stderr).toBe(0);
    const warning = (code: string) => report.warnings.find((w: { code: string }) => w.code === code)?.message as string | undefined;
    // every kept occurrence is in 2025/2026-09, more than 7 days before 2026-11-20
    expect(warning('analytics_7d')).toMatch(/^100(\.0+)?% of the events/);
    const game = await transform(sample('mobile-game.csv'), '--kind', 'totals');
    const left = game.report.warnings.find((w: { code: string }) => w.code === 'columns_left_out')?.message;
    expect(left).toContain('count');
    expect(left).not.toContain('--param');
  });

  it('with a canary: the rows of the canary users alone in part 1, one row per user, clean.lines following the parts', async () => {
    const input = join(await tempDir(), 'small.csv');
    await writeFile(input, SMALL);
    const { r, out, summary } = await transform(input, ...SMALL_MAP, '--kind', 'totals', '--canary', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(summary.canary).toMatchObject({ part: 'clean-part-001.csv', users: 1, rows: 1 });
    const part1 = (await readFile(join(out, 'clean-part-001.csv'), 'utf8')).trimEnd().split('\n');
    const part2 = (await readFile(join(out, 'clean-part-002.csv'), 'utf8')).trimEnd().split('\n');
    expect(part1[0]).toBe(header('buy', 'open'));
    expect(part2[0]).toBe(header('buy', 'open'));
    expect(part1.length - 1 + part2.length - 1).toBe(4);
    expect(part1).toHaveLength(2);
    expect(summary.conservation.ok).toBe(true);
    expect((await readFile(join(out, 'clean.lines'))).length).toBe(4 * 8);
  });

  it('a canary whose folded rows outgrow one part: exit 2 naming the fix, never a second canary part sharing a name with the rest', async () => {
    // 300 users, each one row of a 40-event header (160 mostly empty cells): the picker's estimate
    // (the occurrences' bytes) is far below the folded row's size, so 100 canary users need ~4 parts
    const dir = await tempDir();
    const input = join(dir, 'wide.csv');
    await writeFile(input, csv('userId,event,time', ...Array.from({ length: 300 }, (_, i) => `u${i},e${i % 40},2026-09-01T00:00:00Z`)));
    const out = join(dir, 'out');
    const args = ['transform', input, '--out', out, '--import-at', IMPORT_AT, '--kind', 'totals', '--canary', '100', '--max-part-bytes', '8KB'];
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--canary');
    expect(r.stderr).toContain('--max-part-bytes');
    // the fix as given: a smaller canary fits in one part
    const again = await runCli(args.map((a) => (a === '100' ? '10' : a)).map((a) => (a === out ? join(dir, 'out2') : a)));
    expect(again.code, again.stderr).toBe(0);
    const m = JSON.parse(await readFile(join(dir, 'out2', 'manifest.json'), 'utf8')) as { parts: { file: string; canary?: boolean }[] };
    expect(m.parts.filter((p) => p.canary === true).map((p) => p.file)).toEqual(['clean-part-001.csv']);
    expect(new Set(m.parts.map((p) => p.file)).size).toBe(m.parts.length);
  });

  it('more than 500 event names: exit 2 naming the count, nothing written', async () => {
    const dir = await tempDir();
    const input = join(dir, 'many.csv');
    await writeFile(input, csv('userId,event,time', ...Array.from({ length: 503 }, (_, i) => `u${i % 7},e${i},2026-09-01T00:00:00Z`)));
    const out = join(dir, 'out');
    const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, '--kind', 'totals']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('503 distinct event names');
    expect(r.stderr).toContain('at most 500');
    await expect(readFile(join(out, 'clean.csv'))).rejects.toThrow();
    await expect(readFile(join(out, 'summary.json'))).rejects.toThrow();
  });

  // review of issue 19: a totals row carries no parameters, yet --param was taken and dropped without
  // a word, and the printed summary advised "carry them with --param" for the columns left out.
  it('--param, --params-from and --original-time-param are refused with --kind totals (exit 2, nothing written); the summary does not advise --param', async () => {
    const out = join(await tempDir(), 'out');
    const r = await runCli([
      'transform',
      sample('mobile-game.csv'),
      '--out',
      out,
      '--kind',
      'totals',
      '--param',
      'count',
      '--original-time-param',
      'original_time',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--param, --original-time-param: options of events, not of --kind totals');
    await expect(readFile(join(out, 'clean.csv'))).rejects.toThrow();
    const plain = await transform(sample('mobile-game.csv'), '--kind', 'totals');
    expect(plain.r.code, plain.r.stderr).toBe(0);
    expect(plain.r.stdout).toMatch(/left out +count \(a totals row carries no parameters\)/);
    expect(plain.r.stdout).not.toContain('carry them with --param');
    const users = await transform(sample('users.csv'), '--kind', 'users', '--map', 'userId=user_id', '--attr', 'email');
    expect(users.r.code, users.r.stderr).toBe(0);
    expect(users.r.stdout).toMatch(/left out +.*plan.* \(carry them with --attr\)/);
  });

  // review of issue 19: a people file read as events (the default kind) or totals got only
  // "Did you mean --map event=name?" (a person's name as the event): the kind is the likely mistake
  it('a people file read as events or totals: the refusal names --kind users, and the flags as printed run', async () => {
    const dir = await tempDir();
    const people = join(dir, 'people.csv');
    await writeFile(people, csv('userId,name,plan', 'u1,Ana,pro'));
    const first = await transform(people, '--kind', 'totals');
    expect(first.r.code).toBe(2);
    const flag = /read it with (--kind users)\b/.exec(first.r.stderr)?.[1];
    expect(flag, first.r.stderr).toBe('--kind users');
    const again = await transform(people, ...flag!.split(' '));
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(again.clean).toBe(csv('userId,userAttributes.name,userAttributes.plan', 'u1,Ana,pro'));
    const mp = await transform(sample('mixpanel-people.ndjson'), '--preset', 'mixpanel');
    expect(mp.r.code).toBe(2);
    const flags = /read them with (--kind users --preset mixpanel)\b/.exec(mp.r.stderr)?.[1];
    expect(flags, mp.r.stderr).toBe('--kind users --preset mixpanel');
    const mpAgain = await transform(sample('mixpanel-people.ndjson'), ...flags!.split(' '));
    expect(mpAgain.r.code, mpAgain.r.stderr).toBe(0);
  });

  it('--order input is refused for a per-user kind (exit 2, naming why)', async () => {
    const out = join(await tempDir(), 'out');
    const r = await runCli([
      'transform',
      sample('game-sessions.csv'),
      '--out',
      out,
      '--map',
      'userId=player_id',
      '--map',
      'time=timestamp',
      '--kind',
      'totals',
      '--order',
      'input',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--kind totals writes one row per user');
    expect(r.stderr).toContain('leave out --order input');
    await expect(readFile(join(out, 'summary.json'))).rejects.toThrow();
  });
});

describe('--kind against the stand-ins', () => {
  let s: Awaited<ReturnType<typeof startServers>>;
  beforeAll(async () => {
    s = await startServers({ stepMs: 30 });
  });
  afterAll(async () => {
    await s.stop();
  });
  const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey, LEANPLUM_PROD_KEY: APP.prodKey });
  const cloud = () => ['--to', `gs://${BUCKET}/kinds`, '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--poll-interval', '1s', '--timeout', '30s', '--yes'];
  /** times a few days before now, so the run's default import time keeps them */
  const daysAgo = (d: number) => Math.floor(Date.now() / 1000 / 3600) * 3600 - d * 86_400;
  const iso = (t: number) => new Date(t * 1000).toISOString();

  it('run --kind totals launches a setUserAttributes job; resuming with another kind is OPTIONS_CHANGED (exit 2) with the fix', async () => {
    const dir = await tempDir();
    const input = join(dir, 'events.csv');
    const [a, b, c] = [daysAgo(3), daysAgo(2), daysAgo(1)];
    await writeFile(input, csv('userId,event,time,value', `k1,buy,${iso(a)},2.5`, `k2,open,${iso(b)},`, `k1,buy,${iso(c)},0.5`));
    const out = join(dir, 'run');
    const r = await runCli(['run', input, '--out', out, '--kind', 'totals', ...cloud()], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(m.transform.options.kind).toBe('totals');
    const jobs = [...s.sim.jobs.values()].filter((j) => j.file === m.parts[0].object);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.defaultAction).toBe('setUserAttributes');
    expect(jobs[0]!.state).toBe('FINISHED');
    expect(s.sim.users.get('k1')?.events['buy']).toMatchObject({ count: 2, firstTime: a, lastTime: c, value: 3 });
    expect(s.sim.users.get('k2')?.events['open']).toMatchObject({ count: 1, firstTime: b, lastTime: b });

    const again = await runCli(['run', input, '--out', out, '--kind', 'events', ...cloud()], { env: env() });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('OPTIONS_CHANGED');
    expect(again.stderr).toContain('--kind (then "totals", now "events")');
    expect(again.stderr).toContain('resume it with --kind totals');
    // left out, --kind is events (the default): the same refusal
    const dflt = await runCli(['run', input, '--out', out, ...cloud()], { env: env() });
    expect(dflt.code).toBe(2);
    expect(dflt.stderr).toContain('--kind (then "totals", now "events")');
    expect([...s.sim.jobs.values()].filter((j) => j.file === m.parts[0].object)).toHaveLength(1);
  });

  it('run --kind totals --sink api: one setUserAttributes action per user with the events aggregates', async () => {
    const dir = await tempDir();
    const input = join(dir, 'events.csv');
    const [a, b] = [daysAgo(3), daysAgo(1)];
    await writeFile(input, csv('userId,event,time,value', `s1,buy,${iso(a)},1.25`, `s1,buy,${iso(b)},2`, `s2,open,${iso(b)},`));
    const out = join(dir, 'run');
    const r = await runCli(['run', input, '--out', out, '--kind', 'totals', '--sink', 'api', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(s.sim.users.get('s1')?.events['buy']).toMatchObject({ count: 2, firstTime: a, lastTime: b, value: 3.25 });
    expect(s.sim.users.get('s2')?.events['open']).toMatchObject({ count: 1, firstTime: b, lastTime: b });
  });

  it('send --kind other than the recorded kind is refused before anything is sent; the printed command runs', async () => {
    const out = join(await tempDir(), 'ev');
    const t = await runCli([
      'transform',
      sample('game-sessions.csv'),
      '--out',
      out,
      '--map',
      'userId=player_id',
      '--map',
      'time=timestamp',
      '--import-at',
      new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    ]);
    expect(t.code, t.stderr).toBe(0);
    const calls = s.sim.multi.stats.calls;
    const r = await runCli(['send', out, '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--kind', 'totals'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OPTIONS_CHANGED');
    expect(r.stderr).toContain('was transformed as --kind events (track actions), not --kind totals');
    expect(s.sim.multi.stats.calls).toBe(calls);
    const advice = /`(lp-backfill send [^`]+)`/.exec(r.stderr)![1]!;
    const args = advice
      .replace(/^lp-backfill /, '')
      .split(' ')
      .map((w) => w.replace(/^'(.*)'$/, '$1'));
    const ok = await runCli(args, { env: env() });
    expect(ok.code, ok.stderr).toBe(0);
  });
});
