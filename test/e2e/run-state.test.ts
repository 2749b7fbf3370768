// One regression test per finding of the run-state review (issue "Run state"): each reproduces
// what a user could do with the built CLI against the stand-ins, and fails on the old behaviour.
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, beforeEach } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { sample, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';
import { LeanplumSimulator } from '../stand-ins/leanplum-simulator.js';

let s: Awaited<ReturnType<typeof startServers>>;
let closed: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 20 });
  closed = await startServers({ stepMs: 20, grant: false });
});
afterAll(async () => {
  await s.stop();
  await closed.stop();
});

// each test its own --to prefix: the import ledger there refuses a second run of the same inputs (issue 20)
let toPrefix = 'state-0';
let tests = 0;
beforeEach(() => {
  toPrefix = `state-${++tests}`;
});
const env = (srv = s) => ({ STORAGE_EMULATOR_HOST: srv.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
const cloud = (srv = s, o: { apiUrl?: string; appId?: string } = {}) => [
  '--to',
  `gs://${BUCKET}/${toPrefix}`,
  '--app-id',
  o.appId ?? APP.id,
  '--api-url',
  o.apiUrl ?? srv.sim.apiUrl,
  '--poll-interval',
  '1s',
  '--timeout',
  '30s',
];
const game = ['--count-column', 'count'];
const jobsFor = (srv: typeof s, object: string | undefined) => [...srv.sim.jobs.values()].filter((j) => j.file === object);
const uploads = (srv = s) => srv.gcs.log.filter((l) => l.path.startsWith('/upload')).length;
const manifest = async (out: string) => JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
/** No stack frames in what the user sees: one line of error and one of advice. */
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('run state: the gates every command path meets', () => {
  it('1. a sampled preview is never uploaded or launched (exit 2), and `run` will not resume it as a full run', async () => {
    const out = join(await tempDir(), 'sampled');
    const p = await runCli(['preview', sample('mobile-game.csv'), '--out', out, ...game, '--sample', '3', '--max-reject-rate', '1']);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('sampled    only the first 3 row(s)');
    expect((await manifest(out)).transform.sampled).toBe(3);
    const before = uploads();
    const up = await runCli(['upload', out, '--to', `gs://${BUCKET}/sampled`], { env: env() });
    expect(up.code).toBe(2);
    expect(up.stderr).toContain('SAMPLED_OUTPUT');
    expect(up.stderr).toContain('this is a sampled preview; transform the whole input');
    const launch = await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() });
    expect(launch.code).toBe(2);
    expect(launch.stderr).toContain('SAMPLED_OUTPUT');
    const run = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud()], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('SAMPLED_OUTPUT');
    expect(run.stderr).toContain('without --sample');
    expect(uploads()).toBe(before);
    expect((await manifest(out)).parts.every((x: { upload?: unknown }) => x.upload === undefined)).toBe(true);
  });

  it('2. a FAILED job has a way out: --relaunch makes exactly one new job, the FAILED one stays on record, a plain rerun adds none', async () => {
    const out = join(await tempDir(), 'failed');
    const first = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud(closed)], { env: env(closed) });
    expect(first.code).toBe(5);
    expect(first.stderr).toContain('JOB_FAILED');
    expect(first.stderr).toContain('--relaunch');
    const object = (await manifest(out)).parts[0].object;
    const failedJob = jobsFor(closed, object)[0]!;
    expect(failedJob.state).toBe('FAILED');

    // a plain rerun follows the same FAILED job: no second job without --relaunch
    const plain = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud(closed)], { env: env(closed) });
    expect(plain.code).toBe(5);
    expect(jobsFor(closed, object)).toHaveLength(1);

    // the cause fixed (the object readable while importing), --relaunch launches once more
    const again = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', '--relaunch', '--public-while-importing', ...cloud(closed)], {
      env: env(closed),
    });
    expect(again.stderr).not.toContain('error');
    expect(again.code).toBe(0);
    const jobs = jobsFor(closed, object);
    expect(jobs.map((j) => j.state).sort()).toEqual(['FAILED', 'FINISHED']);
    const m = await manifest(out);
    expect(m.parts[0].launch.jobId).not.toBe(failedJob.id);
    expect(m.parts[0].job.state).toBe('FINISHED');
    expect(m.parts[0].history).toEqual([expect.objectContaining({ outcome: 'FAILED', jobId: failedJob.id })]);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.results.jobs[0].replaced).toEqual([expect.objectContaining({ jobId: failedJob.id, outcome: 'FAILED' })]);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain(failedJob.id);

    // later runs, with or without --relaunch, never touch a finished part
    for (const extra of [[], ['--relaunch']]) {
      const later = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...extra, ...cloud(closed)], { env: env(closed) });
      expect(later.code).toBe(0);
    }
    expect(jobsFor(closed, object)).toHaveLength(2);
  });

  it('3. two `run`s started together on one --out make exactly one job; the loser is told who holds the run', async () => {
    const out = join(await tempDir(), 'twice');
    const args = ['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', '--quiet', ...cloud()];
    const [a, b] = await Promise.all([startCli(args, { env: env() }).done, startCli(args, { env: env() }).done]);
    const codes = [a.code, b.code].sort();
    expect(codes[0]).toBe(0);
    // the second either met the lock, or started after the first had finished and resumed
    if (codes[1] === 2) expect(a.stderr + b.stderr).toMatch(/RUN_LOCKED.*in use by another lp-backfill process \(pid \d+ on /);
    else expect(codes[1]).toBe(0);
    expect(jobsFor(s, (await manifest(out)).parts[0].object)).toHaveLength(1);
  });

  it('4. a re-transform that fails halfway leaves the complete output and manifest as they were; upload sends that one', async () => {
    const dir = await tempDir();
    const out = join(dir, 'retransform');
    const t = Math.floor(Date.now() / 1000) - 86_400;
    const good = join(dir, 'good.csv');
    await writeFile(good, `userId,event,time\n${Array.from({ length: 50 }, (_, i) => `u${i},open,${t}`).join('\n')}\n`);
    expect((await runCli(['transform', good, '--out', out])).code).toBe(0);
    const cleanBefore = await readFile(join(out, 'clean.csv'));
    const manifestBefore = await readFile(join(out, 'manifest.json'), 'utf8');
    // many good rows, then a quote that never closes: the reader fails after writing rows
    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      `userId,event,time\n${Array.from({ length: 5000 }, (_, i) => `v${i},buy,${t}`).join('\n')}\nv9,"unclosed,${t}\n${'w,open,1\n'.repeat(100)}`,
    );
    const failed = await runCli(['transform', bad, '--out', out]);
    expect(failed.code).toBe(2);
    expect((await readFile(join(out, 'clean.csv'))).equals(cleanBefore)).toBe(true);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(manifestBefore);
    expect((await readdir(out)).filter((n) => n.startsWith('.staging'))).toEqual([]);
    expect((await runCli(['upload', out, '--to', `gs://${BUCKET}/retransform`], { env: env() })).code).toBe(0);
    const object = (await manifest(out)).parts[0].object;
    expect((await s.gcs.read(BUCKET, object))!.data.equals(cleanBefore)).toBe(true);
  });

  it('4b. a clean.csv changed after the transform is not uploaded', async () => {
    const out = join(await tempDir(), 'tampered');
    expect((await runCli(['transform', sample('mobile-game.csv'), '--out', out, ...game, '--max-reject-rate', '1'])).code).toBe(0);
    await writeFile(join(out, 'clean.csv'), 'userId,event,time\nx,y,1\n');
    const before = uploads();
    const up = await runCli(['upload', out, '--to', `gs://${BUCKET}/tampered`], { env: env() });
    expect(up.code).toBe(2);
    expect(up.stderr).toContain('is not the file the transform wrote');
    expect(uploads()).toBe(before);
  });

  it('5. `run` on a finished directory with other transform options is refused (exit 2), naming each option', async () => {
    const out = join(await tempDir(), 'options');
    expect((await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud()], { env: env() })).code).toBe(0);
    const jobsBefore = s.sim.jobs.size;
    const r = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--max-delay', '1d', '--map', 'userId=user_id', '--yes', ...cloud()], {
      env: env(),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OPTIONS_CHANGED');
    expect(r.stderr).toContain('--max-delay (then "2d", now "1d")');
    expect(r.stderr).toContain('--map (then {}, now {"userId":"user_id"})');
    expect(s.sim.jobs.size).toBe(jobsBefore);
    // the same options resume as before
    expect((await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud()], { env: env() })).code).toBe(0);
  });

  it('6. --api-url http://127.evil.example is refused before any request (exit 2); loopback proper is not', async () => {
    const out = join(await tempDir(), 'evil');
    expect((await runCli(['transform', sample('mobile-game.csv'), '--out', out, ...game, '--max-reject-rate', '1'])).code).toBe(0);
    for (const url of ['http://127.evil.example/api', 'http://127.0.0.1.nip.io/api', 'http://localhost.evil.example/api', 'http://[::2]/api']) {
      const r = await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', url], { env: env() });
      expect(r.code, url).toBe(2);
      expect(r.stderr, url).toContain('the key would travel unencrypted');
    }
    const requests = s.sim.requests.length;
    const r = await runCli(
      ['run', sample('mobile-game.csv'), '--out', join(out, 'x'), ...game, '--yes', ...cloud(s, { apiUrl: 'http://127.evil.example/api' })],
      { env: env() },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the key would travel unencrypted');
    // given twice with different values, neither copy is guessed at (the same value twice is one value)
    const twice = await runCli(
      ['run', sample('mobile-game.csv'), '--out', join(out, 'y'), ...game, '--yes', ...cloud(), '--api-url', 'http://127.0.0.1:9/api'],
      {
        env: env(),
      },
    );
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('api-url: given 2 times with different values');
    expect(s.sim.requests.length).toBe(requests);
  });

  it('7. the reject-rate gate holds for `upload` and `launch` by hand too (exit 3, nothing uploaded)', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    const t = Math.floor(Date.now() / 1000) - 86_400;
    await writeFile(input, `userId,event,time\nu1,open,${t}\n,open,${t}\nu3,open,later\n`);
    const out = join(dir, 'rejects');
    expect((await runCli(['transform', input, '--out', out])).code).toBe(3);
    const before = uploads();
    const up = await runCli(['upload', out, '--to', `gs://${BUCKET}/rejects`], { env: env() });
    expect(up.code).toBe(3);
    expect(up.stderr).toContain('REJECT_RATE');
    const launch = await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() });
    expect(launch.code).toBe(3);
    expect(uploads()).toBe(before);
  });

  it('8. wait and status never send the key to a URL that only the manifest names', async () => {
    const out = join(await tempDir(), 'redirect');
    expect((await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud()], { env: env() })).code).toBe(0);
    const evil = new LeanplumSimulator({ apps: {}, gcsUrl: s.gcs.url });
    await evil.start();
    try {
      const m = await manifest(out);
      m.leanplum.apiUrl = evil.apiUrl;
      m.parts[0].job.state = 'RUNNING'; // so that status has a job to ask about
      await writeFile(join(out, 'manifest.json'), JSON.stringify(m));
      for (const cmd of [
        ['wait', out],
        ['status', out],
        ['wait', out, '--api-url', s.sim.apiUrl],
      ]) {
        const r = await runCli(cmd, { env: env() });
        expect(r.code, cmd.join(' ')).toBe(2);
        expect(r.stderr).toContain("a manifest's URL is never used on its own");
      }
      expect(evil.requests).toHaveLength(0);
    } finally {
      await evil.stop();
    }
  });

  it('9. local path problems are exit 2 with one line and no stack trace (--debug adds it)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const under = await runCli(['transform', sample('mobile-game.csv'), '--out', join(file, 'out'), ...game]);
    expect(under.code).toBe(2);
    expect(under.stderr).toContain('IO_FAILED');
    expect(under.stderr).toContain(join(file, 'out'));
    expect(under.stderr).not.toContain('internal error');
    noStack(under.stderr);
    const debug = await runCli(['transform', sample('mobile-game.csv'), '--out', join(file, 'out'), ...game, '--debug']);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^\s+at /m);
    const missing = await runCli(['transform', join(dir, 'no-such.csv'), '--out', join(dir, 'out')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such.csv');
    noStack(missing.stderr);
    const noRun = await runCli(['upload', join(dir, 'nowhere'), '--to', `gs://${BUCKET}/x`], { env: env() });
    expect(noRun.code).toBe(2);
    noStack(noRun.stderr);
  });

  it("10. the lock: a live holder refuses a second process at once (exit 2, named); a dead holder's lock is taken over", async () => {
    const out = join(await tempDir(), 'locked');
    expect((await runCli(['transform', sample('mobile-game.csv'), '--out', out, ...game, '--max-reject-rate', '1'])).code).toBe(0);
    // this test process is alive: its pid in the lock file stands for a command still running
    await writeFile(join(out, '.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'run' }));
    const live = await runCli(['upload', out, '--to', `gs://${BUCKET}/locked`], { env: env() });
    expect(live.code).toBe(2);
    expect(live.stderr).toContain(`RUN_LOCKED`);
    expect(live.stderr).toContain(`pid ${process.pid} on ${hostname()}`);
    // a process that has ended: its pid is free (reuse within this test is not a concern)
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    await writeFile(join(out, '.lock'), JSON.stringify({ pid: Number(gone), host: hostname(), startedAt: new Date().toISOString(), command: 'run' }));
    const taken = await runCli(['upload', out, '--to', `gs://${BUCKET}/locked`], { env: env() });
    expect(taken.code).toBe(0);
    expect((await readdir(out)).filter((n) => n.startsWith('.lock'))).toEqual([]);
    // status reads without the lock, even while another holds it
    await writeFile(join(out, '.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'run' }));
    const st = await runCli(['status', out]);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('part       clean.csv: uploaded, 84 rows');
  });

  it('the key is scrubbed even when Leanplum echoes it in its error messages', async () => {
    const out = join(await tempDir(), 'echo');
    s.sim.echoKey = true;
    try {
      const wrongApp = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud(s, { appId: 'no-such-app' }), '--debug'], {
        env: env(),
      });
      expect(wrongApp.code).toBe(4);
      s.sim.faults.add({ match: 'getMultiResults', kind: 'status', status: 400, times: 1 });
      const launched = await runCli(['run', sample('mobile-game.csv'), '--out', out, ...game, '--yes', ...cloud(), '--debug'], { env: env() });
      expect(launched.code).toBe(4);
      const echoed = [...s.sim.jobs.values()].length > 0;
      expect(echoed).toBe(true);
      for (const r of [wrongApp, launched]) {
        // the stand-in did echo it (masked form present), and the key itself is nowhere
        expect(r.stderr).toContain(`****${APP.devKey.slice(-4)}`);
        expect(r.stdout + r.stderr).not.toContain(APP.devKey);
      }
    } finally {
      s.sim.echoKey = false;
    }
  });

  it('a run with no row to import (header only, or a shard without users) uploads nothing and launches nothing', async () => {
    const dir = await tempDir();
    const input = join(dir, 'empty.csv');
    await writeFile(input, 'userId,event,time\n');
    const [uploadsBefore, jobsBefore] = [uploads(), s.sim.jobs.size];
    const r = await runCli(['run', input, '--out', join(dir, 'out'), '--yes', ...cloud()], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no rows to import');
    expect((await manifest(join(dir, 'out'))).parts).toEqual([]);
    expect(uploads()).toBe(uploadsBefore);
    expect(s.sim.jobs.size).toBe(jobsBefore);
  });
});
