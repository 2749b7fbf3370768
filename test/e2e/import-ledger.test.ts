// The import ledger (issue 20): the bucket remembers what was imported. A run directory lost after
// a FINISHED run (a new laptop, a cleaned CI workspace) must not import every event a second time;
// --reimport does so on purpose. Everything on the stand-ins; printed advice is run through a shell.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiExport } from '../helpers/api-run.js';
import { adviceIn, runCli, runShell } from '../helpers/cli.js';
import { gameRunArgs, hourAgo } from '../helpers/game-run.js';
import { sample, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 30 });
});
afterAll(() => s.stop());
beforeEach(() => {
  s.gcs.faults.clear();
  s.sim.faults.clear();
});

const IMPORT = hourAgo();
const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
let n = 0;
const unique = (what: string) => `${what}-${++n}-${Date.now()}`;
/** every write to the bucket (clean parts, states, ledger records) */
const uploads = () => s.gcs.log.filter((l) => l.path.startsWith('/upload')).length;
/** the clean parts in the bucket */
const parts = () => s.gcs.listObjects(BUCKET).filter((o) => /\/clean(-part-\d+)?\.csv$/.test(o.name)).length;
/** the CSV import job's launch POSTs */
const launches = () => s.sim.requests.filter((r) => r.action === 'multi').length;
const manifestOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
const ledgerOf = async (url: string) => {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url)!;
  const got = await s.gcs.read(m[1]!, m[2]!);
  return got === undefined ? undefined : JSON.parse(got.data.toString('utf8'));
};

describe('the import ledger: a lost run directory does not import twice', () => {
  it('FINISHED run, directory deleted, same command → exit 2 naming the earlier run, nothing uploaded or launched; --reimport imports once more', async () => {
    const out = join(await tempDir(), 'first');
    const args = gameRunArgs({ out, to: `gs://${BUCKET}/${unique('ledger')}`, apiUrl: s.sim.apiUrl, importAt: IMPORT });
    const first = await runCli(args, { env: env() });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const m = await manifestOf(out);
    expect(m.importLedger.url).toMatch(new RegExp(`^gs://${BUCKET}/ledger-[\\w-]+/\\.lp-backfill/imports/[0-9a-f]{64}\\.json$`));
    const record = await ledgerOf(m.importLedger.url);
    expect(record.imports).toHaveLength(1);
    expect(record.imports[0]).toMatchObject({ runId: m.runId, reimport: false, dir: out });
    // the entry followed the job to its end
    expect(record.imports[0].parts).toEqual([
      expect.objectContaining({ file: 'clean.csv', stage: 'finished', jobId: m.parts[0].launch.jobId, jobState: 'FINISHED' }),
    ]);

    await rm(out, { recursive: true, force: true });
    const [up0, l0, jobs0] = [uploads(), launches(), s.sim.jobs.size];
    const again = await runCli(args, { env: env() });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('ALREADY_IMPORTED');
    expect(again.stderr).toContain(m.runId);
    expect(again.stderr).toContain(out);
    expect(again.stderr).toContain(`job ${m.parts[0].launch.jobId} FINISHED`);
    expect(again.stderr).toContain('not found on this machine');
    expect([uploads(), launches(), s.sim.jobs.size]).toEqual([up0, l0, jobs0]);

    // the way on, as printed: the same command with --reimport
    const reimport = adviceIn(again.stderr).find((a) => a.includes('--reimport'));
    expect(reimport).toBeDefined();
    const r = await runShell(reimport!, env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(s.sim.jobs.size).toBe(jobs0 + 1);
    const after = await ledgerOf(m.importLedger.url);
    expect(after.imports.map((e: { runId: string; reimport: boolean }) => e.reimport)).toEqual([false, true]);
    expect(after.imports[1].runId).toBe((await manifestOf(out)).runId);

    // a third run without the flag is refused, naming the reimport
    await rm(out, { recursive: true, force: true });
    const third = await runCli(args, { env: env() });
    expect(third.code).toBe(2);
    expect(third.stderr).toContain('a --reimport');
    expect(s.sim.jobs.size).toBe(jobs0 + 1);
  });

  it('the same run resuming (same --out) is not a second import', async () => {
    const out = join(await tempDir(), 'resumed');
    const args = gameRunArgs({ out, to: `gs://${BUCKET}/${unique('resume')}`, apiUrl: s.sim.apiUrl, importAt: IMPORT });
    expect((await runCli(args, { env: env() })).code).toBe(0);
    const jobs0 = s.sim.jobs.size;
    const again = await runCli(args, { env: env() });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(s.sim.jobs.size).toBe(jobs0);
  });

  it('an unfinished earlier run whose directory is still here: the refusal prints the command that finishes it, and it runs as printed', async () => {
    const work = await tempDir();
    const to = `gs://${BUCKET}/${unique('unfinished')}`;
    const args = (out: string, extra: string[] = []) => gameRunArgs({ out, to, apiUrl: s.sim.apiUrl, importAt: IMPORT, extra });
    await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ stuckPending: true }) });
    let first: Awaited<ReturnType<typeof runCli>>;
    try {
      first = await runCli(args(join(work, 'first'), ['--timeout', '1s']), { env: env() });
    } finally {
      await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ stuckPending: false }) });
    }
    expect(first.code).toBe(4); // the job goes on inside Leanplum
    const jobs0 = s.sim.jobs.size;
    const other = await runCli(args(join(work, 'second')), { env: env() });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('it is still on this machine');
    const advice = adviceIn(other.stderr);
    // the printed status, while the earlier job is still unfinished in its manifest (status asks the
    // run's own --api-url about it: without that flag in the advice it stopped with STAGE_REFUSED)
    const statusAdvice = advice.find((a) => a.startsWith('lp-backfill status '));
    const early = await runShell(statusAdvice!, env());
    expect(early.stderr).not.toContain('error');
    expect(early.code).toBe(0);
    const finish = advice.find((a) => a.startsWith('lp-backfill wait '));
    expect(finish).toContain(join(work, 'first'));
    const done = await runShell(finish!, env());
    expect(done.stderr).not.toContain('error');
    expect(done.code).toBe(0);
    const status = advice.find((a) => a.startsWith('lp-backfill status '));
    expect((await runShell(status!, env())).code).toBe(0);
    expect(s.sim.jobs.size).toBe(jobs0);
    // the entry followed the job to its end (wait by hand attached the run's ledger again)
    const m = await manifestOf(join(work, 'first'));
    expect((await ledgerOf(m.importLedger.url)).imports[0].parts[0]).toMatchObject({ stage: 'finished', jobState: 'FINISHED' });
  });

  it('by hand: transform and upload into a new directory go ahead, launch is refused (the app is known only there); --reimport as printed launches', async () => {
    const work = await tempDir();
    const to = `gs://${BUCKET}/${unique('by-hand')}`;
    expect((await runCli(gameRunArgs({ out: join(work, 'first'), to, apiUrl: s.sim.apiUrl, importAt: IMPORT }), { env: env() })).code).toBe(0);
    const out = join(work, 'second');
    const transform = ['transform', sample('mobile-game.csv'), '--out', out, '--count-column', 'count', '--import-at', IMPORT];
    expect((await runCli(transform, { env: env() })).code).toBe(0);
    expect((await runCli(['upload', out, '--to', to], { env: env() })).code).toBe(0);
    const [l0, jobs0] = [launches(), s.sim.jobs.size];
    const launch = await runCli(['launch', out, '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--yes'], { env: env() });
    expect(launch.code).toBe(2);
    expect(launch.stderr).toContain('ALREADY_IMPORTED');
    // its parts were uploaded (by `upload`): the refusal does not say otherwise, and names them
    expect(launch.stderr).not.toContain('Nothing was uploaded');
    expect(launch.stderr).toContain(`Nothing was launched or sent. This run's uploaded parts (${to}/`);
    expect([launches(), s.sim.jobs.size]).toEqual([l0, jobs0]);
    const reimport = adviceIn(launch.stderr).find((a) => a.includes('--reimport'));
    expect(reimport).toMatch(/^lp-backfill launch /);
    expect((await runShell(reimport!, env())).code).toBe(0);
    expect(s.sim.jobs.size).toBe(jobs0 + 1);
  });

  it('sharded --state-to run: with its local directories gone, shard 0 run again elsewhere is refused; its retried task (same --state-to) resumes and sends nothing', async () => {
    const to = `gs://${BUCKET}/${unique('shards')}`;
    const state = `gs://${BUCKET}/${unique('shard-states')}`;
    const shard = (out: string, i: number, extra: string[] = []) =>
      gameRunArgs({ out, to, apiUrl: s.sim.apiUrl, importAt: IMPORT, extra: ['--shard', `${i}/2`, ...extra] });
    const work = await tempDir();
    const outs = [join(work, 's0'), join(work, 's1')];
    const firsts = await Promise.all(outs.map((out, i) => runCli(shard(out, i, ['--state-to', state]), { env: env() })));
    for (const r of firsts) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const [m0, m1] = await Promise.all(outs.map(manifestOf));
    // each shard is its own import: two records
    expect(m0.importLedger.identity).not.toBe(m1.importLedger.identity);
    expect(m0.stateUrl).toBe(`${state}/shard-0-of-2/manifest.json`);
    for (const o of outs) await rm(o, { recursive: true, force: true });

    const [up0, l0, jobs0, parts0] = [uploads(), launches(), s.sim.jobs.size, parts()];
    // shard 0 again, without the state (another machine, another --state-to forgotten): refused, the earlier run named
    const again = await runCli(shard(join(work, 'again'), 0), { env: env() });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('ALREADY_IMPORTED');
    expect(again.stderr).toContain(m0.runId);
    expect(again.stderr).toContain(m0.stateUrl);
    expect(adviceIn(again.stderr).some((a) => a.includes('--reimport'))).toBe(true);
    // the earlier run's state, as printed: status of the --state-to prefix (both shards)
    const status = adviceIn(again.stderr).find((a) => a.startsWith('lp-backfill status gs://'));
    const st = await runShell(status!, env());
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(m0.runId);
    expect([uploads(), launches(), s.sim.jobs.size]).toEqual([up0, l0, jobs0]);

    // the retried task of shard 0 (same --state-to, an empty --out): that run resuming, finished: exit 0, nothing sent
    const retried = await runCli(shard(join(work, 'retried'), 0, ['--state-to', state]), { env: env() });
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
    expect([parts(), launches(), s.sim.jobs.size]).toEqual([parts0, l0, jobs0]);
    expect((await ledgerOf(m0.importLedger.url)).imports.map((e: { runId: string }) => e.runId)).toEqual([m0.runId]);
  });
});

describe('the import ledger with the API sink', () => {
  const apiEnv = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_PROD_KEY: APP.prodKey, LEANPLUM_DEV_KEY: '' });
  const mapping = ['--map', 'userId=user_id', '--map', 'event=event_name', '--map', 'time=ts', '--param', 'level', '--max-reject-rate', '1'];
  async function exportFile(): Promise<string> {
    const file = join(await tempDir(), 'events.csv');
    await writeFile(file, apiExport({ users: 30, maxRows: 3 }).csv);
    return file;
  }
  const runApi = (file: string, out: string, extra: string[]) =>
    runCli(['run', file, '--out', out, ...mapping, '--sink', 'api', '--app-id', APP.id, '--api-url', s.sim.apiUrl, ...extra], { env: apiEnv() });

  it('run --sink api --to: run directory lost → the same command is refused, no call sent; --reimport sends again', async () => {
    const file = await exportFile();
    const out = join(await tempDir(), 'api');
    const to = ['--to', `gs://${BUCKET}/${unique('api-ledger')}`];
    const first = await runApi(file, out, to);
    expect(first.code).toBe(0);
    const m = await manifestOf(out);
    expect(m.target).toBeUndefined(); // nothing uploaded: --to only keeps the ledger
    expect((await ledgerOf(m.importLedger.url)).imports[0]).toMatchObject({ runId: m.runId, send: { completedAt: m.send.completedAt } });

    await rm(out, { recursive: true, force: true });
    const calls = s.sim.multi.stats.calls;
    const again = await runApi(file, out, to);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('ALREADY_IMPORTED');
    expect(again.stderr).toContain(m.runId);
    expect(again.stderr).toContain('its send completed');
    expect(s.sim.multi.stats.calls).toBe(calls);

    const reimport = adviceIn(again.stderr).find((a) => a.includes('--reimport'));
    const r = await runShell(reimport!, apiEnv());
    expect(r.code).toBe(0);
    expect(s.sim.multi.stats.calls).toBeGreaterThan(calls);
  });

  it('a CSV job imported the export, its directory is lost: the same export through --sink api with the same --to is refused, no call sent', async () => {
    const file = await exportFile();
    const to = ['--to', `gs://${BUCKET}/${unique('both-sinks')}`];
    const csv = await runCli(
      [
        'run',
        file,
        '--out',
        join(await tempDir(), 'csv'),
        ...mapping,
        ...to,
        '--app-id',
        APP.id,
        '--api-url',
        s.sim.apiUrl,
        '--yes',
        '--poll-interval',
        '1s',
        '--timeout',
        '30s',
      ],
      {
        env: { STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey },
      },
    );
    expect(csv.code, csv.stderr).toBe(0);
    const calls = s.sim.multi.stats.calls;
    const api = await runApi(file, join(await tempDir(), 'api'), to);
    expect(api.code).toBe(2);
    expect(api.stderr).toContain('ALREADY_IMPORTED');
    expect(s.sim.multi.stats.calls).toBe(calls);
  });

  it('run --sink api --state-to: the ledger lives beside the state; send by hand into a new directory with the same --to is refused', async () => {
    const file = await exportFile();
    const work = await tempDir();
    const state = `gs://${BUCKET}/${unique('api-state')}`;
    const first = await runApi(file, join(work, 'a'), ['--state-to', state]);
    expect(first.code).toBe(0);
    const m = await manifestOf(join(work, 'a'));
    expect(m.importLedger.url.startsWith(`${state}/.lp-backfill/imports/`)).toBe(true);
    await rm(join(work, 'a'), { recursive: true, force: true });
    const calls = s.sim.multi.stats.calls;
    // the retried task (same --state-to, empty --out): the same run, complete: exit 0, nothing sent
    const retried = await runApi(file, join(work, 'b'), ['--state-to', state]);
    expect(retried.stderr).not.toContain('error');
    expect(retried.code).toBe(0);
    expect(s.sim.multi.stats.calls).toBe(calls);
    // transform + send by hand, the ledger named by --to (the --state-to prefix): another run, refused
    const c = join(work, 'c');
    expect((await runCli(['transform', file, '--out', c, ...mapping], { env: apiEnv() })).code).toBe(0);
    const byHand = await runCli(['send', c, '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--to', state], { env: apiEnv() });
    expect(byHand.code).toBe(2);
    expect(byHand.stderr).toContain('ALREADY_IMPORTED');
    expect(byHand.stderr).toContain(m.stateUrl);
    expect(s.sim.multi.stats.calls).toBe(calls);
  });

  it('run --sink api without --to or --state-to says that only the run directory protects it', async () => {
    const file = await exportFile();
    const r = await runApi(file, join(await tempDir(), 'plain'), []);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('only this run directory protects against sending the same inputs twice');
  });
});
