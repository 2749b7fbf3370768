// --state-to: the run's manifest in GCS, for batch engines whose local disk dies with the task.
// A "retried task" here is a new process with a new, empty --out and the same --state-to.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../../src/model/manifest.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';
import { until } from '../helpers/wait.js';
import { gameRunArgs, hourAgo } from '../helpers/game-run.js';

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 30 });
});
afterAll(() => s.stop());
beforeEach(() => {
  s.gcs.faults.clear();
  s.sim.faults.clear();
  s.sim.stuckPending = false;
});

// one import time for every task of a test, as a batch engine's job spec would pin it
const IMPORT = hourAgo();
const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
let n = 0;
const newState = () => `gs://${BUCKET}/states/t${++n}-${Date.now()}`;
const args = (out: string, state: string) =>
  // each state its own --to: the import ledger there refuses another run of the same inputs (issue 20)
  gameRunArgs({ out, to: state.replace('/states/', '/state-runs/'), apiUrl: s.sim.apiUrl, importAt: IMPORT, extra: ['--state-to', state] });
const stateOf = async (state: string) => {
  const got = await s.gcs.read(BUCKET, `${state.replace(`gs://${BUCKET}/`, '')}/manifest.json`);
  try {
    return got === undefined ? undefined : JSON.parse(got.data.toString('utf8'));
  } catch {
    return undefined; // caught while the emulator writes it
  }
};
const jobsFor = (object: string | undefined) => [...s.sim.jobs.values()].filter((j) => j.file === object);
const freshOut = async () => join(await tempDir(), 'task');

/** Starts a task, SIGKILLs it as soon as `when` holds (or lets it finish). */
async function killWhen(out: string, state: string, when: () => boolean | Promise<boolean>): Promise<CliResult> {
  const { child, done } = startCli(args(out, state), { env: env() });
  let finished = false;
  void done.then(() => (finished = true));
  await until(async () => finished || (await when()), 'the moment to kill the task');
  if (!finished) child.kill('SIGKILL');
  return done;
}

describe('--state-to: a retried task on a new machine resumes its run from GCS', () => {
  it('finishes a run; a task with an empty --out re-creates the parts byte for byte and adds no job', async () => {
    const state = newState();
    const first = join(await tempDir(), 'first');
    const r = await runCli(args(first, state), { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const remote = await stateOf(state);
    expect(remote.parts[0].job.state).toBe('FINISHED');
    expect(remote).toEqual(JSON.parse(await readFile(join(first, 'manifest.json'), 'utf8')));

    const second = await freshOut();
    const again = await runCli(
      args(second, state).filter((x) => x !== '--quiet'),
      { env: env() },
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('recreated');
    expect((await readFile(join(second, 'clean.csv'))).equals(await readFile(join(first, 'clean.csv')))).toBe(true);
    expect(jobsFor(remote.parts[0].object)).toHaveLength(1);
  });

  it.each([
    ['after the upload, before the launch', (st: Manifest | undefined) => st?.parts?.[0]?.upload !== undefined],
    ['once the job id is saved', (st: Manifest | undefined) => st?.parts?.[0]?.launch?.jobId !== undefined],
  ])('killed %s: the retried task (new --out) ends with exactly one job', async (_when, cond) => {
    const state = newState();
    const jobsBefore = s.sim.jobs.size;
    s.sim.stuckPending = true; // keeps the first task waiting, so it is still alive at the moment
    const first = await killWhen(await freshOut(), state, async () => cond(await stateOf(state)));
    s.sim.stuckPending = false;
    await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ stuckPending: false }) });
    expect(first.signal).toBe('SIGKILL');
    const retried = await runCli(args(await freshOut(), state), { env: env() });
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
    expect(s.sim.jobs.size - jobsBefore).toBe(1);
    expect(jobsFor((await stateOf(state)).parts[0].object)).toHaveLength(1);
  });

  it('killed right after the launch POST left: the retried task stops on the unknown outcome, one job at most', async () => {
    const state = newState();
    s.sim.faults.add({ match: 'multi', kind: 'slow', delayMs: 1500, times: 1 });
    const n0 = s.sim.requests.length;
    const first = await killWhen(await freshOut(), state, () => s.sim.requests.slice(n0).some((r) => r.action === 'multi'));
    expect(first.signal).toBe('SIGKILL');
    const object = (await stateOf(state)).parts[0].object;
    await until(() => jobsFor(object).length === 1, 'the server has created the orphaned job');
    const retried = await runCli(args(await freshOut(), state), { env: env() });
    expect(retried.code).toBe(4);
    expect(retried.stderr).toContain('LAUNCH_UNKNOWN');
    expect(jobsFor(object)).toHaveLength(1);
  });

  it('two tasks on the same state at once (different machines): exactly one job', async () => {
    const state = newState();
    const jobsBefore = s.sim.jobs.size;
    const [a, b] = await Promise.all([
      startCli(args(await freshOut(), state), { env: env() }).done,
      startCli(args(await freshOut(), state), { env: env() }).done,
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes[0]).toBe(0);
    // the loser of every compare-and-swap reads again: it either follows the winner's job or gives up (exit 2)
    // or, having read the winner's "launching", stops on the outcome it cannot know (exit 4)
    if (codes[1] === 2) expect(a.stderr + b.stderr).toMatch(/STATE_CONFLICT|STAGE_REFUSED/);
    else if (codes[1] === 4) expect(a.stderr + b.stderr).toContain('LAUNCH_UNKNOWN');
    else expect(codes[1]).toBe(0);
    // counted over every object: two tasks that each made their own run would have two
    expect(s.sim.jobs.size - jobsBefore).toBe(1);
    expect(jobsFor((await stateOf(state)).parts[0].object)).toHaveLength(1);
  });

  it('status reads many runs at once, directories and gs:// states alike, and adds them up (read-only)', async () => {
    const [sa, sb] = [newState(), newState()];
    const [oa, ob] = [await freshOut(), await freshOut()];
    expect((await runCli(args(oa, sa), { env: env() })).code).toBe(0);
    expect((await runCli(args(ob, sb), { env: env() })).code).toBe(0);
    const before = JSON.stringify(await stateOf(sb));
    const st = await runCli(['status', oa, sb], { env: env() });
    expect(st.stderr).toBe('');
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(`run        ${oa}: `);
    expect(st.stdout).toContain(`run        ${sb}: `);
    // mobile-game.csv expands to 84 rows: two runs of it
    expect(st.stdout).toMatch(/^total {6}2 runs, 2 parts, 168 rows; FINISHED 2$/m);
    expect(st.stdout).toContain('not finished: none');
    expect(st.stdout).toMatch(/billable lookups \(as written\): \d+/);
    expect(JSON.stringify(await stateOf(sb))).toBe(before);
    const none = await runCli(['status', `gs://${BUCKET}/states/nothing-here`], { env: env() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('holds no run state');
    // GCS not answering: said as GCS_FAILED (exit 4) with the fix, not as an internal error of the tool
    const down = await runCli(['status', `gs://${BUCKET}/states`], { env: { ...env(), STORAGE_EMULATOR_HOST: 'http://127.0.0.1:1' } });
    expect(down.stderr).not.toContain('internal error');
    expect(down.stderr).toContain('GCS_FAILED');
    expect(down.code).toBe(4);
  });

  it("a Cloud Run job of 4 tasks: each task its shard (from the engine's variables) and its state; status adds the shards up; a retried task adds no job", async () => {
    const state = newState();
    const jobsBefore = s.sim.jobs.size;
    const task = async (index: number, out: string) =>
      runCli(
        args(out, state)
          .map((x) => x)
          .concat(['--shard', 'auto']),
        { env: { ...env(), CLOUD_RUN_TASK_INDEX: String(index), CLOUD_RUN_TASK_COUNT: '4' } },
      );
    for (let i = 0; i < 4; i++) {
      const r = await task(i, await freshOut());
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const st = await runCli(['status', state], { env: env() });
    expect(st.code).toBe(0);
    for (let i = 0; i < 4; i++) expect(st.stdout).toContain(`run        ${state}/shard-${i}-of-4: `);
    // the four shards hold the 84 rows of mobile-game.csv between them, each once
    expect(st.stdout).toMatch(/^total {6}4 runs, \d+ parts, 84 rows; /m);
    expect(st.stdout).toContain('not finished: none');
    const jobs = s.sim.jobs.size - jobsBefore;
    const retried = await task(2, await freshOut());
    expect(retried.code).toBe(0);
    expect(s.sim.jobs.size - jobsBefore).toBe(jobs);
  });

  it('a launch by hand on a --state-to run directory saves to GCS too: the next retried task sees it and launches nothing', async () => {
    const state = newState();
    const out = await freshOut();
    const jobsBefore = s.sim.jobs.size;
    // the launch request is cut before Leanplum handles it: unknown outcome, and in truth no job
    s.sim.faults.add({ match: '/api multi', kind: 'drop', times: 1 });
    const first = await runCli(args(out, state), { env: env() });
    expect(first.code).toBe(4);
    expect(first.stderr).toContain('--state-to');
    const startedAt = (await stateOf(state)).parts[0].launch.startedAt;
    const byHand = await runCli(['launch', out, '--yes', '--quiet', '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--relaunch-unknown', startedAt], {
      env: env(),
    });
    expect(byHand.code).toBe(0);
    expect((await stateOf(state)).parts[0].launch.status).toBe('launched');
    // a retried task on another machine follows that job, and the same advice can't launch again
    const retried = await runCli(args(await freshOut(), state).concat(['--relaunch-unknown', startedAt]), { env: env() });
    expect(retried.code).toBe(0);
    expect(s.sim.jobs.size - jobsBefore).toBe(1);
  });

  it('a --state-to prefix keeps the shard count it was made with: another count, or no shard, is refused; status names shards that never saved', async () => {
    const state = newState();
    const jobsBefore = s.sim.jobs.size;
    expect((await runCli(args(await freshOut(), state).concat(['--shard', '0/2']), { env: env() })).code).toBe(0);
    const jobs = s.sim.jobs.size - jobsBefore;
    for (const other of [['--shard', '0/3'], []]) {
      const r = await runCli(args(await freshOut(), state).concat(other), { env: env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('made as 2 shards');
    }
    expect(s.sim.jobs.size - jobsBefore).toBe(jobs);
    const st = await runCli(['status', state], { env: env() });
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(`missing    ${state}/shard-1-of-2: no state saved yet`);
    expect(st.stdout).toMatch(new RegExp(`not finished: .*${state.replace(/[/.]/g, '\\$&')}/shard-1-of-2`));
  });
});
