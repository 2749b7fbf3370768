// One regression test per finding of the front-door review (issue "Front door"): ordinary mistakes
// that put wrong data into a FINISHED import with exit 0, or advice that did not run as printed.
// Each drives the built CLI as a user would, against the stand-ins where a cloud step is involved.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adviceIn, runCli, runShell } from '../helpers/cli.js';
import { sample, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 20 });
});
afterAll(async () => {
  await s.stop();
});

const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
const game = ['--count-column', 'count'];
const cloud = (prefix: string) => [
  '--to',
  `gs://${BUCKET}/${prefix}`,
  '--app-id',
  APP.id,
  '--api-url',
  s.sim.apiUrl,
  '--poll-interval',
  '1s',
  '--timeout',
  '30s',
];
const clean = async (out: string) => readFile(join(out, 'clean.csv'), 'utf8');
const summary = async (out: string) => JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
const manifest = async (out: string) => JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
const uploads = () => s.gcs.log.filter((l) => l.path.startsWith('/upload')).length;
const launches = () => s.sim.requests.filter((r) => r.action === 'multi').length;
const hourAgo = () => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString().replace('.000Z', 'Z');

describe('front door: a repeated flag is never read as its default', () => {
  it('--tz X --tz X is X (it fell back to UTC: times 4-5 h off), --count-column twice still expands', async () => {
    const dir = await tempDir();
    const importAt = ['--import-at', hourAgo()];
    const once = join(dir, 'once');
    const twice = join(dir, 'twice');
    const input = sample('mobile-game.csv');
    expect((await runCli(['transform', input, '--out', once, '--tz', 'America/New_York', ...game, ...importAt])).code).toBe(0);
    const r = await runCli(['transform', input, '--out', twice, '--tz', 'America/New_York', '--tz', 'America/New_York', ...game, ...game, ...importAt]);
    expect(r.code).toBe(0);
    expect(await clean(twice)).toBe(await clean(once));
    expect((await summary(twice)).config.timeZone).toBe('America/New_York');
    const s1 = await summary(once);
    expect(s1.counts.expandedRows).toBeGreaterThan(0);
    expect((await summary(twice)).counts.written).toBe(s1.counts.written);
  });

  it('two different values: the last one is used and the summary says so (--max-reject-rate 0.5 then 0.9 was 0.01)', async () => {
    const dir = await tempDir();
    const out = join(dir, 'o');
    const r = await runCli([
      'transform',
      sample('mobile-game.csv'),
      '--out',
      out,
      ...game,
      '--max-reject-rate',
      '0.5',
      '--max-reject-rate',
      '0.9',
      '--tz',
      'UTC',
      '--tz',
      'Europe/Berlin',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('options    --max-reject-rate given 2 times ("0.5", "0.9"): the last one was used: "0.9"');
    expect(r.stdout).toContain('options    --tz given 2 times ("UTC", "Europe/Berlin"): the last one was used: "Europe/Berlin"');
    const sm = await summary(out);
    expect(sm.config.maxRejectRate).toBe(0.9);
    expect(sm.config.timeZone).toBe('Europe/Berlin');
  });

  it('--out given twice with different values is refused before anything is written (exit 2)', async () => {
    const dir = await tempDir();
    const r = await runCli(['transform', sample('mobile-game.csv'), '--out', join(dir, 'a'), '--out', join(dir, 'b')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('out: given 2 times with different values');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('front door: every flag is checked before the first side effect', () => {
  it('run --timeout 6hours: exit 2 with nothing uploaded or launched (it used to upload and launch first)', async () => {
    const out = join(await tempDir(), 'timeout');
    const [u, l] = [uploads(), launches()];
    const r = await runCli(
      ['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud('timeout'), '--timeout', '6hours', '--max-count', '1e3'],
      {
        env: env(),
      },
    );
    expect(r.code).toBe(2);
    // every problem at once
    expect(r.stderr).toContain('timeout: expected a duration like 30s, 10m, 6h or 2d, found "6hours"');
    expect(r.stderr).toContain('max-count: expected a whole number ≥ 1, found "1e3"');
    expect(r.stderr).toContain('Nothing was written or sent');
    expect([uploads(), launches()]).toEqual([u, l]);
    expect(await readdir(out).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
  });

  it('--import-at a year ahead (a typo) is refused: it moved a 2026 event and let future ones in', async () => {
    const dir = await tempDir();
    const ahead = new Date(Date.now() + 200 * 86_400_000).toISOString();
    const r = await runCli(['transform', sample('mobile-game.csv'), '--out', join(dir, 'o'), ...game, '--import-at', ahead]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is more than max-delay (2d) after the real clock');
    expect(await readdir(dir)).toEqual([]);
  });

  it('an --import-at one day ahead (within --max-delay) is accepted, but rows after the real clock are future_time', async () => {
    const dir = await tempDir();
    const now = Math.floor(Date.now() / 1000);
    const input = join(dir, 'in.csv');
    await writeFile(input, `userId,event,time\nu1,open,${now - 3600}\nu2,open,${now + 6 * 3600}\n`);
    const ahead = new Date((now + 86_400) * 1000).toISOString();
    const out = join(dir, 'o');
    const r = await runCli(['transform', input, '--out', out, '--import-at', ahead, '--max-reject-rate', '1']);
    expect(r.code).toBe(0);
    const sm = await summary(out);
    expect(sm.counts.rejectedByReason.future_time).toBe(1);
    expect(Date.parse(sm.config.clock)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(sm.config.futureAfter)).toBeLessThan(Date.parse(sm.config.importAt));
  });

  it('an --out that cannot be created fails in under a second (it spun forever on /proc/x)', async () => {
    const t = Date.now();
    const r = await runCli(['transform', sample('mobile-game.csv'), '--out', '/proc/lp-backfill-x/y', ...game]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot create the directory "/proc/lp-backfill-x/y"');
    expect(Date.now() - t).toBeLessThan(5_000); // the process start is most of it; the old loop never ended
  });

  it('--log-format json: the final error is a JSON line too', async () => {
    const r = await runCli(['transform', sample('mobile-game.csv'), '--out', join(await tempDir(), 'o'), '--log-format', 'json', '--max-count', 'lots']);
    expect(r.code).toBe(2);
    const last = JSON.parse(r.stderr.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ event: 'error', code: 'CONFIG_INVALID', exitCode: 2 });
    expect(last.message).toContain('max-count');
  });

  it('--help names every input format and groups the flags', async () => {
    const r = await runCli(['run', '--help']);
    for (const word of ['CSV/TSV', 'NDJSON', 'JSON array', 'zip', 'Parquet', '.gz', 'gs://']) expect(r.stdout.replace(/\s+/g, ' ')).toContain(word);
    for (const group of ['Input:', 'Mapping:', 'Time:', 'Output:', 'Order & shards:', 'Cloud:', 'Leanplum:']) expect(r.stdout).toContain(group);
  });
});

describe('front door: advice runs as printed', () => {
  it('after a lost launch answer, the printed --adopt-job and wait commands run as printed; status then needs no --app-id', async () => {
    const out = join(await tempDir(), 'adopt');
    const cmd = ['run', sample('mobile-game.csv'), '--out', out, ...game, '--import-at', hourAgo(), '--yes', ...cloud('adopt')];
    const jobsBefore = new Set(s.sim.jobs.keys());
    // the job is created, its answer is lost
    s.sim.faults.add({ match: '/api multi', kind: 'drop-after', times: 1 });
    const lost = await runCli(cmd, { env: env() });
    expect(lost.code).toBe(4);
    expect(lost.stderr).toContain('LAUNCH_UNKNOWN');
    const created = [...s.sim.jobs.keys()].filter((j) => !jobsBefore.has(j));
    expect(created).toHaveLength(1);
    expect((await manifest(out)).leanplum).toEqual({ appId: APP.id, apiUrl: s.sim.apiUrl });

    const advice = adviceIn(lost.stderr);
    const adopt = advice.find((a) => a.includes('--adopt-job'))!;
    const wait = advice.find((a) => a.startsWith('lp-backfill wait'))!;
    expect(adopt).toBeDefined();
    expect(wait).toBeDefined();
    // the user fills in the job id Leanplum shows; nothing else is changed
    const a = await runShell(adopt.replace('<its job id>', created[0]!), env());
    expect(a.code, a.stderr).toBe(0);
    const w = await runShell(wait, env());
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toContain(`${created[0]}: FINISHED`);
    expect(s.sim.jobs.size).toBe(jobsBefore.size + 1);

    const st = await runCli(['status', out, '--api-url', s.sim.apiUrl], { env: env() });
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(created[0]);
  });

  it('after a launch that reached nothing, the printed --relaunch-unknown command runs as printed and makes exactly one job', async () => {
    const out = join(await tempDir(), 'relaunch');
    const cmd = ['run', sample('mobile-game.csv'), '--out', out, ...game, '--import-at', hourAgo(), '--yes', ...cloud('relaunch')];
    const jobsBefore = s.sim.jobs.size;
    s.sim.faults.add({ match: '/api multi', kind: 'drop', times: 1 });
    const lost = await runCli(cmd, { env: env() });
    expect(lost.code).toBe(4);
    const relaunch = adviceIn(lost.stderr).find((a) => a.includes('--relaunch-unknown'))!;
    expect(relaunch).toBeDefined();
    const r = await runShell(relaunch, env());
    expect(r.code, r.stderr).toBe(0);
    expect(s.sim.jobs.size).toBe(jobsBefore + 1);
    const wait = adviceIn(lost.stderr).find((a) => a.startsWith('lp-backfill wait'))!;
    const w = await runShell(wait, env());
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toContain('FINISHED');
  });

  it('status of a sharded state where one shard of two saved says "1 run", not "1 runs"', async () => {
    const out = join(await tempDir(), 'one');
    const state = `gs://${BUCKET}/one-of-two-${Date.now()}`;
    const r = await runCli(
      ['run', sample('mobile-game.csv'), '--out', out, ...game, '--import-at', hourAgo(), '--yes', ...cloud('one'), '--shard', '0/2', '--state-to', state],
      { env: env() },
    );
    expect(r.code, r.stderr).toBe(0);
    const st = await runCli(['status', state], { env: env() });
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/total {6}1 run, 1 part, \d+ rows/);
  });
});

// Found by a fresh-eye review of the first version: each reproduced as the reviewer did it.
describe('front door, after review', () => {
  const G = ['--map', 'userId=player_id', '--map', 'time=timestamp'];
  const games = sample('game-sessions.csv');

  it('an export named twice, or two files with the same bytes, is refused (it was read twice: every event imported twice)', async () => {
    const dir = await tempDir();
    const twice = await runCli(['transform', games, ...G, '-o', join(dir, 'a'), '--tz', 'UTC', games]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('is given twice (inputs 1 and 2)');
    const copy = join(dir, 'copy.csv');
    await writeFile(copy, await readFile(games));
    const same = await runCli(['transform', games, copy, ...G, '-o', join(dir, 'b')]);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('have the same content');
    expect(await readdir(join(dir, 'b')).catch(() => [])).not.toContain('clean.csv');
  });

  it('a flag given without a value (an empty shell variable) is refused, never read as its default', async () => {
    const r = await runCli(['transform', games, ...G, '-o', join(await tempDir(), 'o'), '--tz', '--max-reject-rate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tz: given without a value');
    expect(r.stderr).toContain('max-reject-rate: given without a value');
  });

  it('run refuses before any upload: --api-url that is no URL or plain http, --adopt-job on a new run, no --yes off a terminal, --to with --prefix', async () => {
    const before = uploads();
    const cases: [string[], string][] = [
      [['--api-url', 'not-a-url', '--yes'], 'api-url: "not-a-url" is not a URL'],
      [['--api-url', 'http://example.com/api', '--yes'], 'the key would travel unencrypted'],
      [['--adopt-job', 'clean.csv=123', '--yes'], 'adopt-job: --out holds no run yet'],
      [[], 'yes: no terminal to confirm the launch on'],
      [['--prefix', 'foo', '--yes'], 'prefix: only read with --bucket'],
    ];
    for (const [extra, message] of cases) {
      const out = join(await tempDir(), 'o');
      const args = ['run', sample('mobile-game.csv'), '--out', out, ...game, '--to', `gs://${BUCKET}/r`, '--app-id', APP.id, ...extra];
      if (!extra.includes('--api-url')) args.push('--api-url', s.sim.apiUrl);
      const r = await runCli(args, { env: env() });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(await readdir(out).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
    }
    expect(uploads()).toBe(before);
  });

  it('an --import-at or --min-time that is no calendar date (2026-02-30) is refused, not rolled over to March', async () => {
    const r = await runCli([
      'transform',
      games,
      ...G,
      '-o',
      join(await tempDir(), 'o'),
      '--import-at',
      '2026-02-30T00:00:00Z',
      '--min-time',
      '2021-13-01T00:00:00Z',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('import-at: "2026-02-30T00:00:00Z" is not a real calendar date and time');
    expect(r.stderr).toContain('min-time: expected an ISO-8601 instant');
  });

  it('--map userId twice with different columns is refused (the last one used to win silently)', async () => {
    const r = await runCli(['transform', games, ...G, '--map', 'userId=event', '-o', join(await tempDir(), 'o')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('map: userId is mapped twice, to "player_id" and to "event"');
  });

  it('--encoding latin1 on windows-1252 bytes (0x80–0x9F) stops and names windows-1252 (invisible control characters went into ids)', async () => {
    const dir = await tempDir();
    const input = join(dir, 'w.csv');
    await writeFile(input, Buffer.from('user,event,time\nJos\x80,caf\x9c,2026-10-01T00:00:00Z\n', 'latin1'));
    const r = await runCli(['transform', input, '--map', 'userId=user', '--encoding', 'latin1', '-o', join(dir, 'o')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give --encoding windows-1252');
    const ok = await runCli(['transform', input, '--map', 'userId=user', '--encoding', 'windows-1252', '-o', join(dir, 'o2'), '--import-at', hourAgo()]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await clean(join(dir, 'o2'))).toContain('Jos€,cafœ');
  });

  it('Parquet strings that are not UTF-8 stop the run (they became U+FFFD: two users merged)', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const dir = await tempDir();
    const file = join(dir, 'bad.parquet');
    const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'user_id', data: [enc('Jos\xe9'), enc('Jos\xe8')], type: 'BYTE_ARRAY' },
        { name: 'event_name', data: [enc('open'), enc('open')], type: 'BYTE_ARRAY' },
        { name: 'time', data: [1_790_000_000, 1_790_000_000], type: 'DOUBLE' },
      ],
    });
    await writeFile(file, Buffer.from(buf));
    const r = await runCli(['transform', file, '--map', 'userId=user_id', '--map', 'event=event_name', '-o', join(dir, 'o')]);
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toContain('not valid UTF-8');
    expect(r.stderr).not.toContain('\uFFFD');
  });

  it('a JSON event that is not text (true, 42) is rejected as bad_event_name, not imported as an event called "true"', async () => {
    const dir = await tempDir();
    const input = join(dir, 'e.ndjson');
    const t = Math.floor(Date.now() / 1000) - 3600;
    await writeFile(
      input,
      [
        { u: 'a', e: true, t },
        { u: 'b', e: 42, t },
        { u: 'c', e: 'open', t },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const out = join(dir, 'o');
    const r = await runCli(['transform', input, '--map', 'userId=u', '--map', 'event=e', '--map', 'time=t', '-o', out, '--max-reject-rate', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect((await summary(out)).counts.rejectedByReason.bad_event_name).toBe(2);
    expect(await clean(out)).not.toContain('true');
  });

  it('did-you-mean for a mistyped time column names event_timestamp, not event_name; the advice runs', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    const t = new Date(Date.now() - 3_600_000).toISOString();
    await writeFile(input, `user_id,event_name,event_timestamp\nu1,open,${t}\n`);
    const r = await runCli(['transform', input, '--map', 'userId=user_id', '--map', 'event=event_name', '--map', 'time=timestmp', '-o', join(dir, 'o')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--map time=event_timestamp');
    const fixed = await runCli([
      'transform',
      input,
      '--map',
      'userId=user_id',
      '--map',
      'event=event_name',
      '--map',
      'time=event_timestamp',
      '-o',
      join(dir, 'o2'),
    ]);
    expect(fixed.code, fixed.stderr).toBe(0);
  });

  it('--clamp-age beyond the window names clamp-age, not a negative max-delay', async () => {
    const r = await runCli(['transform', games, ...G, '-o', join(await tempDir(), 'o'), '--clamp-age', '400d']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("clamp-age: 400d is not inside Leanplum's 365-day window");
    expect(r.stderr).not.toContain('-35d');
  });
});
