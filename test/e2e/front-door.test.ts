// One regression test per finding of the front-door review (issue "Front door"): ordinary mistakes
// that put wrong data into a FINISHED import with exit 0, or advice that did not run as printed.
// Each drives the built CLI as a user would, against the stand-ins where a cloud step is involved.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { repoRoot, sample, tempDir } from '../helpers/run.js';
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

/** The commands a message gives as advice: the `lp-backfill …` texts between backticks. */
const adviceIn = (text: string) => [...text.matchAll(/`(lp-backfill [^`]+)`/g)].map((m) => m[1]!);

/**
 * Runs an advice string exactly as printed, through a real shell, with `lp-backfill` being the
 * built CLI. Asynchronously: the stand-ins answer from this very process.
 */
function runAdvice(advice: string, vars: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `lp-backfill() { "${process.execPath}" "${CLI}" "$@"; }\n${advice}`], {
      cwd: repoRoot,
      env: { ...process.env, ...vars },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

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
    const { writeFile } = await import('node:fs/promises');
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
    const a = await runAdvice(adopt.replace('<its job id>', created[0]!), env());
    expect(a.code, a.stderr).toBe(0);
    const w = await runAdvice(wait, env());
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
    const r = await runAdvice(relaunch, env());
    expect(r.code, r.stderr).toBe(0);
    expect(s.sim.jobs.size).toBe(jobsBefore + 1);
    const wait = adviceIn(lost.stderr).find((a) => a.startsWith('lp-backfill wait'))!;
    const w = await runAdvice(wait, env());
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
