import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiExport } from '../helpers/api-run.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/run.js';
import { type LeanplumSimulator, startApiSimulator } from '../stand-ins/leanplum-simulator.js';

// `lp-backfill run … --sink api` (issue 18) as a user runs it (the built CLI): transform → send
// through the one orchestrator, no --to, the Production key; the run is bound to the API sink, so
// the CSV job's upload and launch refuse it (a double import), and a resume with the other sink too.
let lp: Awaited<ReturnType<typeof startApiSimulator>>;
let sim: LeanplumSimulator;
const KEY = 'prod-SECRET-e2e-run-7777';
const DEV = 'dev-SECRET-e2e-run-8888';

beforeAll(async () => {
  lp = await startApiSimulator({ appId: 'app-run', prodKey: KEY, devKey: DEV });
  sim = lp.sim;
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.faults.clear();
  sim.configureMulti({ reset: true, latencyMs: 0, echoReqId: true, record: 'all', failEvents: [] });
});

const env = { LEANPLUM_PROD_KEY: KEY, LEANPLUM_DEV_KEY: '' };
const mapping = ['--map', 'userId=user_id', '--map', 'event=event_name', '--map', 'time=ts', '--param', 'level', '--max-reject-rate', '1'];

async function input(csv: string): Promise<{ file: string; out: string }> {
  const dir = await tempDir();
  const file = join(dir, 'events.csv');
  await writeFile(file, csv);
  return { file, out: join(dir, 'run') };
}

const runApi = (file: string, out: string, extra: string[] = [], e: Record<string, string> = env) =>
  runCli(['run', file, '--out', out, ...mapping, '--sink', 'api', '--app-id', lp.appId, '--api-url', lp.apiUrl, ...extra], { env: e });

describe('lp-backfill run --sink api', () => {
  it('transform → send: each row applied once, the sink recorded; a rerun sends nothing', async () => {
    const { csv, rows } = apiExport({ users: 120, maxRows: 8, bigUser: 600 });
    const { file, out } = await input(csv);
    const r = await runApi(file, out);
    expect(r.stderr).toMatch(/sent\s+[\d,]+ row\(s\) in \d+ call\(s\)/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`manifest   ${out}/manifest.json`);
    const applied = sim.multi.appliedActions();
    expect(applied).toHaveLength(rows);
    expect(new Set(applied.map((a) => a.reqId)).size).toBe(rows);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(m.sink).toBe('api');
    expect(m.send.completedAt).toBeDefined();
    expect(m.target).toBeUndefined();
    const calls = sim.multi.stats.calls;
    const again = await runApi(file, out);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('transform already done, not repeated');
    expect(sim.multi.stats.calls).toBe(calls);
    expect(sim.multi.appliedActions()).toHaveLength(rows);
  });

  it('then upload and launch (the CSV job) refuse it, and so does a resume with --sink csv-job: no double import', async () => {
    const { csv } = apiExport({ users: 20, maxRows: 3 });
    const { file, out } = await input(csv);
    expect((await runApi(file, out)).code).toBe(0);
    const cloud = { LEANPLUM_DEV_KEY: DEV, LEANPLUM_PROD_KEY: '' };
    const up = await runCli(['upload', out, '--to', 'gs://some-bucket/p'], { env: cloud });
    expect(up.code).toBe(2);
    expect(up.stderr).toContain('OPTIONS_CHANGED');
    expect(up.stderr).toContain('bound to the API sink');
    const launch = await runCli(['launch', out, '--yes', '--app-id', lp.appId, '--api-url', lp.apiUrl], { env: cloud });
    expect(launch.code).toBe(2);
    expect(launch.stderr).toContain('bound to the API sink');
    const csvJob = await runCli(['run', file, '--out', out, ...mapping, '--to', 'gs://some-bucket/p', '--yes', '--app-id', lp.appId, '--api-url', lp.apiUrl], {
      env: cloud,
    });
    expect(csvJob.code).toBe(2);
    expect(csvJob.stderr).toContain('OPTIONS_CHANGED');
    expect(sim.jobs.size).toBe(0);
  });

  // (a --to with --sink api keeps the import ledger, nothing else: test/e2e/import-ledger.test.ts)
  it('needs no --to; never reads LEANPLUM_DEV_KEY', async () => {
    const { csv } = apiExport({ users: 5, maxRows: 2 });
    const { file, out } = await input(csv);
    const devOnly = await runApi(file, out, [], { LEANPLUM_PROD_KEY: '', LEANPLUM_DEV_KEY: KEY });
    expect(devOnly.code).toBe(2);
    expect(devOnly.stderr).toContain('LEANPLUM_PROD_KEY');
    expect(sim.multi.stats.calls).toBe(0);
  });
});
