import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { until } from '../helpers/wait.js';
import { gameRunArgs, hourAgo } from '../helpers/game-run.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

// One import time for every run here, so every clean.csv must be byte-identical to the reference.
const IMPORT = hourAgo();
let s: Awaited<ReturnType<typeof startServers>>;
let reference: Buffer;

const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
// each test its own --to prefix: the import ledger there refuses a second run of the same inputs (issue 20)
let toPrefix = 'crash-0';
let tests = 0;
beforeEach(() => {
  toPrefix = `crash-${++tests}`;
});
const args = (out: string, extra: string[] = []) => gameRunArgs({ out, to: `gs://${BUCKET}/${toPrefix}`, apiUrl: s.sim.apiUrl, importAt: IMPORT, extra });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function manifest(out: string) {
  try {
    return JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Starts `run`, SIGKILLs it as soon as `when` holds (or never, if it finishes first). */
async function killWhen(out: string, when: () => boolean | Promise<boolean>): Promise<CliResult> {
  const { child, done } = startCli(args(out), { env: env() });
  let finished = false;
  void done.then(() => (finished = true));
  for (let i = 0; i < 1500 && !finished; i++) {
    if (await when()) {
      child.kill('SIGKILL');
      break;
    }
    await sleep(5);
  }
  return done;
}

/** After any crash: exactly one job for the file, or a stop that explains the unknown outcome. */
async function checkAfterRerun(out: string, rerun: CliResult) {
  const m = await manifest(out);
  const object = m?.parts?.[0]?.object as string | undefined;
  const jobs = [...s.sim.jobs.values()].filter((j) => j.file === object);
  if (rerun.code === 4) {
    expect(rerun.stderr).toContain('LAUNCH_UNKNOWN');
    expect(rerun.stderr).toMatch(/Look at the app's import jobs in Leanplum.*--adopt-job clean\.csv=<its job id>.*--relaunch-unknown \d{4}-/s);
    expect(jobs.length).toBeLessThanOrEqual(1);
    return 'unknown';
  }
  expect(rerun.stderr).toBe('');
  expect(rerun.code).toBe(0);
  expect(jobs).toHaveLength(1);
  expect((await readFile(join(out, 'clean.csv'))).equals(reference)).toBe(true);
  expect((await s.gcs.read(BUCKET, object!))!.data.equals(reference)).toBe(true);
  return 'finished';
}

beforeAll(async () => {
  s = await startServers({ stepMs: 40 });
  const out = join(await tempDir(), 'reference');
  const r = await runCli(args(out), { env: env() });
  expect(r.code).toBe(0);
  reference = await readFile(join(out, 'clean.csv'));
});
afterAll(() => s.stop());
beforeEach(() => {
  s.gcs.faults.clear();
  s.sim.faults.clear();
  s.sim.stuckPending = false;
});

describe('exactly once: run killed with SIGKILL, then run again', () => {
  it('killed before the upload sends a byte', async () => {
    const out = join(await tempDir(), 'run');
    s.gcs.faults.add({ match: 'POST /upload', kind: 'slow', delayMs: 3000, times: 1 });
    const n = s.gcs.log.length;
    const first = await killWhen(out, () => s.gcs.log.slice(n).some((l) => l.method === 'POST' && l.path.startsWith('/upload')));
    expect(first.signal).toBe('SIGKILL');
    expect((await manifest(out)).parts[0].upload).toBeUndefined();
    s.gcs.faults.clear();
    expect(await checkAfterRerun(out, await runCli(args(out), { env: env() }))).toBe('finished');
  });

  it('killed in the middle of the upload', async () => {
    const out = join(await tempDir(), 'run');
    s.gcs.faults.add({ match: 'PUT /upload', kind: 'slow', delayMs: 3000, times: 1 });
    const n = s.gcs.log.length;
    const first = await killWhen(out, () => s.gcs.log.slice(n).some((l) => l.method === 'PUT'));
    expect(first.signal).toBe('SIGKILL');
    s.gcs.faults.clear();
    expect(await checkAfterRerun(out, await runCli(args(out), { env: env() }))).toBe('finished');
  });

  it('killed after the upload, before the launch', async () => {
    const out = join(await tempDir(), 'run');
    const first = await killWhen(out, async () => (await manifest(out))?.parts?.[0]?.upload !== undefined);
    expect(first.signal).toBe('SIGKILL');
    expect(await checkAfterRerun(out, await runCli(args(out), { env: env() }))).toMatch(/finished|unknown/);
  });

  it('killed right after the launch POST was sent: the rerun stops and explains, the server has one job', async () => {
    const out = join(await tempDir(), 'run');
    s.sim.faults.add({ match: 'multi', kind: 'slow', delayMs: 800, times: 1 });
    const n = s.sim.requests.length;
    const first = await killWhen(out, () => s.sim.requests.slice(n).some((r) => r.action === 'multi'));
    expect(first.signal).toBe('SIGKILL');
    const m = await manifest(out);
    await until(() => [...s.sim.jobs.values()].some((j) => j.file === m.parts[0].object), 'the server, done with the orphaned POST, has created its job');
    expect(m.parts[0].launch.status).toBe('launching');
    const rerun = await runCli(args(out), { env: env() });
    expect(await checkAfterRerun(out, rerun)).toBe('unknown');
    expect([...s.sim.jobs.values()].filter((j) => j.file === m.parts[0].object)).toHaveLength(1);
    // a second rerun still refuses: only --relaunch would launch again
    expect((await runCli(args(out), { env: env() })).code).toBe(4);
    expect([...s.sim.jobs.values()].filter((j) => j.file === m.parts[0].object)).toHaveLength(1);
  });

  it('killed while waiting: the rerun follows the same job', async () => {
    const out = join(await tempDir(), 'run');
    s.sim.stuckPending = true;
    const first = await killWhen(out, async () => (await manifest(out))?.parts?.[0]?.launch?.jobId !== undefined);
    expect(first.signal).toBe('SIGKILL');
    await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ stuckPending: false }) });
    const rerun = await runCli(args(out), { env: env() });
    expect(await checkAfterRerun(out, rerun)).toBe('finished');
  });

  it.each([40, 120, 250, 400, 600, 900])('killed at a random moment (%i ms), then run again (and --relaunch when told to)', async (ms) => {
    const out = join(await tempDir(), 'run');
    s.sim.faults.add({ match: 'multi', kind: 'slow', delayMs: 150, times: 1 });
    const started = Date.now();
    await killWhen(out, () => Date.now() - started >= ms);
    let rerun = await runCli(args(out), { env: env() });
    const outcome = await checkAfterRerun(out, rerun);
    if (outcome === 'unknown') {
      // what a careful user does: look in Leanplum (here the simulator is that place), then take
      // the job found there, or launch again naming the very launch that had no answer
      const m = await manifest(out);
      const job = [...s.sim.jobs.values()].find((j) => j.file === m.parts[0].object);
      // a plain --relaunch never relaunches an unknown outcome
      expect((await runCli(args(out, ['--relaunch']), { env: env() })).code).toBe(4);
      const decide = job
        ? ['launch', out, '--yes', '--quiet', '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--adopt-job', `clean.csv=${job.id}`]
        : ['launch', out, '--yes', '--quiet', '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--relaunch-unknown', m.parts[0].launch.startedAt];
      expect((await runCli(decide, { env: env() })).code).toBe(0);
      rerun = await runCli(args(out), { env: env() });
      expect(await checkAfterRerun(out, rerun)).toBe('finished');
    }
  });
});

describe('the GCS service dies in the middle of an upload', () => {
  it('ends in a clear error (exit 4), and a rerun after it is back finishes', async () => {
    const own = await startServers({ stepMs: 40 });
    const port = Number(new URL(own.gcs.url).port);
    const e = { STORAGE_EMULATOR_HOST: own.gcs.url, LEANPLUM_DEV_KEY: APP.devKey };
    const out = join(await tempDir(), 'run');
    const runArgs = gameRunArgs({ out, to: `gs://${BUCKET}/dies`, apiUrl: own.sim.apiUrl, importAt: IMPORT }).filter(
      (x, i, all) => x !== '--timeout' && all[i - 1] !== '--timeout',
    );
    own.gcs.faults.add({ match: 'PUT /upload', kind: 'slow', delayMs: 2000, times: 1 });
    const { done } = startCli(runArgs, { env: e });
    await until(() => own.gcs.log.some((l) => l.method === 'PUT'), 'the upload has sent its first bytes');
    await own.gcs.stop();
    const first = await done;
    expect(first.code).toBe(4);
    expect(first.stderr).toContain('GCS_FAILED');
    expect(first.stderr).toMatch(/how to fix: Run the same command again/);
    const { GcsEmulator } = await import('../stand-ins/gcs-emulator.js');
    const again = new GcsEmulator({ dataDir: own.dataDir, buckets: { [BUCKET]: { readers: ['leanplum-reader-token'] } }, port });
    await again.start();
    try {
      const rerun = await runCli(runArgs, { env: e });
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      const m = await manifest(out);
      expect((await again.read(BUCKET, m.parts[0].object))!.data.equals(reference)).toBe(true);
    } finally {
      await again.stop();
      await own.sim.stop();
    }
  });
});
