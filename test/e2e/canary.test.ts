import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, runCli, runShell } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';
import { startApiSimulator } from '../stand-ins/leanplum-simulator.js';

// The canary (issue 20) as a user meets it, on the stand-ins: part 1 (100 users chosen by hash) is
// launched alone and followed to its end; a failing row in it stops the run (exit 5) with the row's
// source line, and nothing else is launched; a clean run launches the rest only after it finished.

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 30 });
});
afterAll(() => s.stop());
beforeEach(() => s.sim.configureMulti({ failEvents: [] }));

const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
const cloud = () => ['--to', `gs://${BUCKET}/canary`, '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--poll-interval', '1s', '--timeout', '60s', '--yes'];
const mapping = ['--map', 'userId=user_id', '--map', 'event=event_name', '--map', 'time=ts'];

/** The documented rule, computed here and not with the tool's code: FNV-1a 32 of the UTF-8 id, then murmur3's fmix32. */
function hash(id: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(id, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 3,000 users, two rows each (the last hour); `bad`: this user's second row is an event the simulator fails. */
async function export3000(bad?: string, old?: string): Promise<{ file: string; out: string; badLine: number }> {
  const dir = await tempDir();
  const t = Math.floor(Date.now() / 1000) - 3600;
  let csv = 'user_id,event_name,ts\n';
  let line = 1;
  let badLine = 0;
  for (let i = 0; i < 2; i++)
    for (let u = 0; u < 3000; u++) {
      const user = `player-${u}`;
      const event = user === bad && i === 1 ? 'rejected_by_leanplum' : 'open';
      // `old`: this user's second row is two years old (the clamp moves it to import time − 360 days)
      const time = user === old && i === 1 ? t - 730 * 86400 : t + i * 60 + (u % 50);
      csv += `${user},${event},${time}\n`;
      line++;
      if (event !== 'open' || time < t) badLine = line;
    }
  const file = join(dir, 'events.csv');
  await writeFile(file, csv);
  return { file, out: join(dir, 'run'), badLine };
}

const users = Array.from({ length: 3000 }, (_, u) => `player-${u}`).sort((a, b) => hash(a) - hash(b) || (a < b ? -1 : 1));
const manifest = async (out: string) => JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
const jobsOf = (m: { parts: { object?: string }[] }) => [...s.sim.jobs.values()].filter((j) => m.parts.some((p) => p.object === j.file));

/** A printed command, run by a shell exactly as printed (with `lp-backfill` being the built CLI). */
const shell = (command: string) => runShell(command, env());

describe('canary, CSV import job', () => {
  it('a failing row in a canary user: exactly one launch (the canary), exit 5, the row joined to its source line; the printed way on runs', async () => {
    const bad = users[7]!; // among the 100 smallest hashes
    const { file, out, badLine } = await export3000(bad);
    s.sim.configureMulti({ failEvents: ['rejected_by_leanplum'] });
    const r = await runCli(['run', file, '--out', out, ...mapping, ...cloud()], { env: env() });
    expect(r.stderr).toContain('the canary stopped the run');
    expect(r.code).toBe(5);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary.canary).toMatchObject({ part: 'clean-part-001.csv', users: 100, requested: null });
    const m = await manifest(out);
    expect(m.parts.map((p: { file: string; canary?: boolean }) => [p.file, p.canary ?? false])).toEqual([
      ['clean-part-001.csv', true],
      ['clean-part-002.csv', false],
    ]);
    // one launch: the canary's; the rest uploaded but never launched
    expect(jobsOf(m)).toHaveLength(1);
    expect(jobsOf(m)[0]!.file).toBe(m.parts[0].object);
    expect(m.parts[1].launch).toBeUndefined();
    expect(m.canary).toMatchObject({ part: 'clean-part-001.csv', verdict: 'stopped', failedRows: 1, pastEventWarnings: 0, maxFailures: 0 });
    // the failure, joined to its source line
    expect(r.stderr).toMatch(
      new RegExp(
        `clean-part-001\\.csv row \\d+ ← ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} line ${badLine}: error: Event rejected: rejected_by_leanplum`,
      ),
    );
    const rejects = await readFile(join(out, 'server-rejects.csv'), 'utf8');
    expect(rejects).toContain(`${file},${badLine},error,Event rejected: rejected_by_leanplum,${bad},rejected_by_leanplum,`);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.canary).toMatchObject({ part: 'clean-part-001.csv', users: 100, outcome: { verdict: 'stopped', failedRows: 1 } });
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('Stopped at');

    // status says the canary stopped it, and what lets it go on
    const status = await runCli(['status', out, '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('canary     clean-part-001.csv (100 users, 200 rows): STOPPED the run, 1 failed row(s)');
    expect(status.stdout).toContain('--canary-max-failures 1');

    // the same command again: still stopped, nothing launched
    const again = await runCli(['run', file, '--out', out, ...mapping, ...cloud()], { env: env() });
    expect(again.code).toBe(5);
    expect(jobsOf(await manifest(out))).toHaveLength(1);

    // the printed way on, run as printed: launch with the allowance the canary needed, then wait
    const commands = [...r.stderr.matchAll(/`(lp-backfill [^`]+)`/g)].map((x) => x[1]!);
    expect(commands).toHaveLength(2);
    expect(commands[0]).toContain('--canary-max-failures 1');
    const launched = await shell(commands[0]!);
    expect(launched.stderr).toContain('canary     clean-part-001.csv passed');
    expect(launched.code).toBe(0);
    const waited = await shell(commands[1]!);
    // the canary's one failed row is still a failed row: reported, exit 5, every part FINISHED
    expect(waited.stderr).toContain('1 row(s) failed inside Leanplum');
    expect(waited.code).toBe(5);
    const after = await manifest(out);
    expect(jobsOf(after)).toHaveLength(2);
    expect(after.parts.map((p: { job?: { state: string } }) => p.job?.state)).toEqual(['FINISHED', 'FINISHED']);

    // the run's first command again (no allowance): the rest is in, so the canary that let it go on
    // is not judged again — no 'stopped, nothing else was launched', no launch, the verdict kept
    const rerun = await runCli(['run', file, '--out', out, ...mapping, ...cloud()], { env: env() });
    expect(rerun.stderr).not.toContain('the canary stopped the run');
    expect(rerun.code).toBe(5);
    expect(jobsOf(await manifest(out))).toHaveLength(2);
    expect((await manifest(out)).canary).toMatchObject({ verdict: 'passed', maxFailures: 1 });
  }, 120_000);

  it('a canary stopped in a --state-to run: the retried task (an empty --out) shows the failed row with its source line and writes server-rejects.csv', async () => {
    const bad = users[3]!;
    const { file, out, badLine } = await export3000(bad);
    s.sim.configureMulti({ failEvents: ['rejected_by_leanplum'] });
    const prefix = `gs://${BUCKET}/canary-state-${Date.now()}`;
    const args = (dir: string) => ['run', file, '--out', dir, ...mapping, ...cloud().slice(2), '--to', `${prefix}/objects`, '--state-to', `${prefix}/state`];
    const first = await runCli(args(out), { env: env() });
    expect(first.code, first.stderr).toBe(5);
    const retried = join(await tempDir(), 'task');
    const r = await runCli(args(retried), { env: env() });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('the canary stopped the run');
    expect(r.stderr).toMatch(new RegExp(`clean-part-001\\.csv row \\d+ ← .*events\\.csv line ${badLine}: error: Event rejected: rejected_by_leanplum`));
    expect(await readFile(join(retried, 'server-rejects.csv'), 'utf8')).toContain(`,${badLine},error,Event rejected: rejected_by_leanplum,`);
    expect(jobsOf(await manifest(retried))).toHaveLength(1);
    // a batch engine's task has no directory to `launch` in later: the way on is its own command with the allowance
    expect(r.stderr).toContain("add --canary-max-failures 1 to the task's own run command (the one with --state-to)");
    const task2 = join(await tempDir(), 'task2');
    const goOn = await runCli([...args(task2), '--canary-max-failures', '1'], { env: env() });
    expect(goOn.stderr).toContain('canary     clean-part-001.csv passed');
    expect(goOn.code).toBe(5); // the canary's failed row, reported at the end
    expect(jobsOf(await manifest(task2))).toHaveLength(2);
  }, 120_000);

  it('a clean run: the canary finished before the next launch, every row imported once; a rerun launches nothing', async () => {
    const { file, out } = await export3000();
    const r = await runCli(['run', file, '--out', out, ...mapping, ...cloud()], { env: env() });
    expect(r.stderr).toContain('canary     clean-part-001.csv passed');
    expect(r.code).toBe(0);
    const m = await manifest(out);
    const jobs = jobsOf(m);
    expect(jobs).toHaveLength(2);
    const canaryJob = jobs.find((j) => j.file === m.parts[0].object)!;
    const restJob = jobs.find((j) => j.file === m.parts[1].object)!;
    // the canary's job had ended (in Leanplum) before the rest's launch reached it
    expect(canaryJob.state).toBe('FINISHED');
    expect(canaryJob.endedAt).toBeLessThanOrEqual(Date.parse(restJob.createdAt));
    // every row once: 6,000 rows, in two jobs, the canary's 100 users only in the first
    expect(canaryJob.successes! + restJob.successes!).toBe(6000);
    expect(canaryJob.failures! + restJob.failures!).toBe(0);
    const part1 = await readFile(join(out, 'clean-part-001.csv'), 'utf8');
    const canaryUsers = new Set(
      part1
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    );
    expect(canaryUsers).toEqual(new Set(users.slice(0, 100)));
    const part2 = await readFile(join(out, 'clean-part-002.csv'), 'utf8');
    expect(part2.split('\n').some((l) => canaryUsers.has(l.split(',')[0]!))).toBe(false);
    expect(m.canary).toMatchObject({ part: 'clean-part-001.csv', users: 100, rows: 200, verdict: 'passed', failedRows: 0 });
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.canary.outcome).toMatchObject({ verdict: 'passed' });

    const again = await runCli(['run', file, '--out', out, ...mapping, ...cloud()], { env: env() });
    expect(again.code).toBe(0);
    expect(jobsOf(await manifest(out))).toHaveLength(2);
  }, 120_000);

  it('a "Past event detected" warning in the canary stops the run too (exit 5, one launch, its source line)', async () => {
    const { file, out, badLine } = await export3000(undefined, users[3]);
    // Leanplum processes the canary 8 days after the import time the clamp assumed
    await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 8 * 86400 }) });
    try {
      const r = await runCli(['run', file, '--out', out, ...mapping, ...cloud()], { env: env() });
      expect(r.stderr).toContain('came back with 0 failed row(s) and 1 "Past event detected" warning(s)');
      expect(r.stderr).toMatch(new RegExp(`line ${badLine}: warning: Past event detected \\(368 days ago\\)`));
      expect(r.code).toBe(5);
      const m = await manifest(out);
      expect(jobsOf(m)).toHaveLength(1);
      expect(m.canary).toMatchObject({ verdict: 'stopped', failedRows: 0, pastEventWarnings: 1 });
    } finally {
      await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 0 }) });
    }
  }, 120_000);

  it('on a terminal the run asks once: the canary goes first, the rest follows without a second question', async () => {
    const { file, out } = await export3000();
    const args = cloud().filter((x) => x !== '--yes');
    const cmd = [process.execPath, CLI, 'run', file, '--out', out, ...mapping, ...args].map((x) => `'${x}'`).join(' ');
    // `script` gives the CLI a real pseudo-terminal, as a person at a shell has
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: repoRoot, env: { ...process.env, ...env() } });
    let screen = '';
    let asked = 0;
    child.stdout.on('data', (d) => {
      screen += d;
      const n = screen.split('Launch now? [y/N]').length - 1;
      // the first question is answered yes; a second one (which must not come) no
      while (asked < n) child.stdin.write(asked++ === 0 ? 'y\n' : 'n\n');
    });
    const exit = await new Promise((r) => child.on('close', r));
    expect(screen).toMatch(/About to launch 2 Leanplum import job\(s\) for 6000 rows .*The canary \(clean-part-001\.csv, 200 rows\) goes first, alone/);
    expect(asked).toBe(1);
    expect(exit).toBe(0);
    expect(jobsOf(await manifest(out))).toHaveLength(2);
  }, 120_000);

  it('--canary 0 turns it off: one part, one launch', async () => {
    const { file, out } = await export3000();
    const r = await runCli(['run', file, '--out', out, ...mapping, ...cloud(), '--canary', '0'], { env: env() });
    expect(r.code).toBe(0);
    const m = await manifest(out);
    expect(m.parts.map((p: { file: string }) => p.file)).toEqual(['clean.csv']);
    expect(jobsOf(m)).toHaveLength(1);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary.canary).toMatchObject({ part: null, requested: 0 });
  }, 60_000);
});

describe('canary, API sink', () => {
  let lp: Awaited<ReturnType<typeof startApiSimulator>>;
  beforeAll(async () => {
    lp = await startApiSimulator({ appId: 'app-canary', prodKey: 'prod-SECRET-canary-1', devKey: 'dev-SECRET-canary-2' });
  });
  afterAll(() => lp.sim.stop());
  beforeEach(() => lp.sim.configureMulti({ reset: true, failEvents: [] }));
  const apiEnv = () => ({ LEANPLUM_PROD_KEY: lp.prodKey, LEANPLUM_DEV_KEY: '' });
  const runApi = (file: string, out: string, extra: string[] = []) =>
    runCli(['run', file, '--out', out, ...mapping, '--sink', 'api', '--app-id', lp.appId, '--api-url', lp.apiUrl, ...extra], { env: apiEnv() });

  it('canary calls whose answers were lost and then skipped (--skip-unknown) do not pass the canary: their rows count against the allowance', async () => {
    const { file, out } = await export3000();
    lp.sim.loseMultiAnswers(100); // every canary call (and its retries) applied, its answer lost
    const first = await runApi(file, out);
    lp.sim.faults.clear();
    expect(first.stderr).toContain('SEND_UNKNOWN');
    const skip = [...first.stderr.matchAll(/`(lp-backfill [^`]+--skip-unknown [^`]+)`/g)].map((x) => x[1]!)[0]!;
    const calls = lp.sim.multi.callLog.length;
    const skipped = await runShell(skip, apiEnv());
    // no answer, no verdict: not 'passed: 0 failed row(s)' with the rest sent on no evidence
    expect(skipped.stderr).not.toContain('canary     clean-part-001.csv passed');
    expect(skipped.stderr).toContain('the canary stopped the run');
    expect(skipped.stderr).toContain('200 row(s) whose answer was lost');
    expect(skipped.code).toBe(5);
    expect(lp.sim.multi.callLog.length).toBe(calls);
    // the printed way on counts them in the allowance, and sends the rest
    const goOn = [...skipped.stderr.matchAll(/`(lp-backfill [^`]+--canary-max-failures [^`]+)`/g)].map((x) => x[1]!)[0]!;
    expect(goOn).toContain('--canary-max-failures 200');
    const sent = await runShell(goOn, apiEnv());
    expect(sent.stderr).toContain('canary     clean-part-001.csv passed');
    expect(lp.sim.multi.appliedActions()).toHaveLength(6000);
  }, 120_000);

  it("a failing row in a canary user: only the canary's calls are sent, exit 5, the row joined to its source line; the printed way on sends the rest", async () => {
    const bad = users[42]!;
    const { file, out, badLine } = await export3000(bad);
    lp.sim.configureMulti({ failEvents: ['rejected_by_leanplum'] });
    const r = await runApi(file, out);
    expect(r.stderr).toContain('the canary stopped the run');
    expect(r.code).toBe(5);
    const canaryUsers = new Set(users.slice(0, 100));
    // nothing but the canary's 100 users reached Leanplum: 200 rows, one of them failed
    const calls = lp.sim.multi.callLog;
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.users.every((u) => canaryUsers.has(u)))).toBe(true);
    expect(lp.sim.multi.appliedActions()).toHaveLength(199);
    expect(r.stderr).toMatch(
      new RegExp(
        `clean-part-001\\.csv row \\d+ ← ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} line ${badLine}: error: Event rejected: rejected_by_leanplum`,
      ),
    );
    expect(r.stderr).toContain('Nothing else was sent.');
    const m = await manifest(out);
    expect(m.canary).toMatchObject({ verdict: 'stopped', failedRows: 1 });
    expect(m.send.completedAt).toBeUndefined();

    // the printed way on, as printed: the rest is sent, the canary is not sent again
    const commands = [...r.stderr.matchAll(/`(lp-backfill [^`]+)`/g)].map((x) => x[1]!);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toContain('--canary-max-failures 1');
    const goOn = await runShell(commands[0]!, apiEnv());
    expect(goOn.stderr).toContain('canary     clean-part-001.csv passed');
    // the canary's failed row is still a failed row: exit 5 at the end, every other row applied once
    expect(goOn.code).toBe(5);
    const applied = lp.sim.multi.appliedActions();
    expect(applied).toHaveLength(5999);
    expect(new Set(applied.map((a) => a.reqId)).size).toBe(5999);

    // the run's first command again (no allowance): everything was sent, so the canary that let it
    // go on is not judged again — no 'stopped, nothing else was sent', no call, the verdict kept
    const again = await runApi(file, out);
    expect(again.stderr).not.toContain('the canary stopped the run');
    expect(again.stderr).toContain('1 row(s) failed inside Leanplum');
    expect(lp.sim.multi.appliedActions()).toHaveLength(5999);
    expect((await manifest(out)).canary).toMatchObject({ verdict: 'passed', maxFailures: 1 });
  }, 120_000);

  it('a clean run: every canary call answered before any other call arrives; every row applied once', async () => {
    const { file, out } = await export3000();
    const r = await runApi(file, out, ['--concurrency', '8']);
    expect(r.stderr).toContain('canary     clean-part-001.csv passed');
    expect(r.code).toBe(0);
    const canaryUsers = new Set(users.slice(0, 100));
    const calls = lp.sim.multi.callLog;
    const canaryCalls = calls.filter((c) => c.users.some((u) => canaryUsers.has(u)));
    const rest = calls.filter((c) => !c.users.some((u) => canaryUsers.has(u)));
    // no call mixes canary users and others
    expect(canaryCalls.every((c) => c.users.every((u) => canaryUsers.has(u)))).toBe(true);
    expect(canaryCalls.length).toBeGreaterThan(1);
    expect(rest.length).toBeGreaterThan(0);
    expect(Math.max(...canaryCalls.map((c) => c.answeredAt))).toBeLessThanOrEqual(Math.min(...rest.map((c) => c.arrivedAt)));
    const applied = lp.sim.multi.appliedActions();
    expect(applied).toHaveLength(6000);
    expect(new Set(applied.map((a) => a.reqId)).size).toBe(6000);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    // the transform's API figure is what the send billed: the canary's calls are packed apart
    expect(lp.sim.multi.stats.billableLookups).toBe(summary.cost.apiBillableLookups);
  }, 120_000);
});
