import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiExport, apiRunDir } from '../helpers/api-run.js';
import { type CliResult, runCli, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/run.js';
import { type LeanplumSimulator, startApiSimulator } from '../stand-ins/leanplum-simulator.js';

// `lp-backfill send` as a user runs it (the built CLI), against the Leanplum simulator's JSON multi.
let lp: Awaited<ReturnType<typeof startApiSimulator>>;
let sim: LeanplumSimulator;
const KEY = 'prod-SECRET-e2e-api-5555';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lp = await startApiSimulator({ appId: 'app-e2e', prodKey: KEY, devKey: 'dev-SECRET-e2e-6666' });
  sim = lp.sim;
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.faults.clear();
  sim.echoKey = false;
  sim.configureMulti({ reset: true, latencyMs: 0, echoReqId: true, record: 'all', failEvents: [] });
});

const env = (extra: Record<string, string> = {}) => ({ LEANPLUM_PROD_KEY: KEY, LEANPLUM_DEV_KEY: '', ...extra });
const send = (dir: string, extra: string[] = [], e = env()) => runCli(['send', dir, '--app-id', lp.appId, '--api-url', lp.apiUrl, ...extra], { env: e });

/** Every file of a run directory, as text (the key must be in none). */
async function allText(dir: string): Promise<string> {
  let out = '';
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out += await readFile(join(e.parentPath, e.name), 'utf8');
  return out;
}

/** Each clean row applied exactly once, under one reqId. */
function expectEachRowOnce(rows: number): void {
  const applied = sim.multi.appliedActions();
  const perReq = new Map<string, number>();
  for (const a of applied) perReq.set(a.reqId!, (perReq.get(a.reqId!) ?? 0) + 1);
  expect(applied).toHaveLength(rows);
  // rows reqIds, each applied once: no row went under a second reqId (that would be one more action)
  expect(perReq.size).toBe(rows);
  expect([...perReq.values()].every((n) => n === 1)).toBe(true);
}

describe('lp-backfill send (API sink)', () => {
  it('a clean run: every row once, summary and results, exit 0, no key anywhere', async () => {
    const { csv, rows } = apiExport({ users: 150, maxRows: 10, bigUser: 700 });
    const dir = await apiRunDir(csv);
    const r = await send(dir);
    expect(r.stderr).toMatch(/sent\s+[\d,]+ row\(s\) in \d+ call\(s\)/);
    expect(r.code).toBe(0);
    expectEachRowOnce(rows);
    const summary = JSON.parse(await readFile(join(dir, 'results', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ sink: 'api', sent: rows, ok: rows, failed: 0, billableLookups: sim.multi.stats.billableLookups });
    // the preview's figure (transform summary, before anything was sent) is what the send cost
    const preview = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8'));
    expect(preview.cost.apiBillableLookups).toBe(sim.multi.stats.billableLookups);
    expect(await allText(dir)).not.toContain(KEY);
    // again: nothing more is sent
    const calls = sim.multi.stats.calls;
    const again = await send(dir);
    expect(again.code).toBe(0);
    expect(sim.multi.stats.calls).toBe(calls);
    // and says so: not "sent N row(s)" of rows this command did not send
    expect(again.stderr).toMatch(/sent\s+nothing: this run's send was already complete \(earlier: [\d,]+ row\(s\)/);
    expect(again.stderr).not.toMatch(/sent\s+[\d,]+ row\(s\) in/);
  });

  it('the preview shows the API billable lookups beside the CSV job figure: printed, report.json, report.html', async () => {
    const { csv } = apiExport({ users: 130, maxRows: 9, bigUser: 1200 });
    const work = await tempDir();
    await writeFile(join(work, 'in.csv'), csv);
    const out = join(work, 'run');
    const r = await runCli([
      'transform',
      join(work, 'in.csv'),
      '--out',
      out,
      '--map',
      'userId=user_id',
      '--map',
      'event=event_name',
      '--map',
      'time=ts',
      '--param',
      'level',
    ]);
    expect(r.code).toBe(0);
    const m = /cost .*; ([\d,]+) through the API \(--sink api\)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.cost.apiBillableLookups).toBe(Number(m![1]!.replace(/,/g, '')));
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('through the API instead');
    // and it is what the send then costs
    expect((await send(out)).code).toBe(0);
    expect(sim.multi.stats.billableLookups).toBe(report.cost.apiBillableLookups);
    expect(report.cost.apiBillableLookups).toBeLessThan(report.cost.billableLookupsAsWritten);
  });

  it('never reads LEANPLUM_DEV_KEY: without the Production key it stops before sending', async () => {
    const dir = await apiRunDir(apiExport({ users: 5, maxRows: 2 }).csv);
    const r = await send(dir, [], { LEANPLUM_PROD_KEY: '', LEANPLUM_DEV_KEY: KEY });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LEANPLUM_PROD_KEY');
    expect(sim.multi.stats.calls).toBe(0);
  });

  it('per-action failures: server-rejects.csv joined to the source line, exit 5', async () => {
    const { csv } = apiExport({ users: 30, maxRows: 4, bad: true });
    const dir = await apiRunDir(csv);
    sim.configureMulti({ failEvents: ['bad_event'] });
    const r = await send(dir);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('JOB_ROW_FAILURES');
    const rejects = parse(await readFile(join(dir, 'server-rejects.csv')), { columns: true }) as Record<string, string>[];
    expect(rejects.length).toBe(csv.split('\n').filter((l) => l.includes('bad_event')).length);
    const lines = csv.split('\n');
    for (const x of rejects) expect(lines[Number(x['sourceLine']) - 1]).toContain(`${x['userId']},bad_event,${x['time']}`);
  });

  it('429 with Retry-After and 503: retried, every row once', async () => {
    const { csv, rows } = apiExport({ users: 80, maxRows: 6 });
    const dir = await apiRunDir(csv);
    sim.throttleMulti(1, 1);
    sim.unavailableMulti(1);
    const t = Date.now();
    const r = await send(dir);
    expect(r.code).toBe(0);
    expect(Date.now() - t).toBeGreaterThanOrEqual(1000);
    expect(r.stderr).toMatch(/retry .*HTTP 429/);
    expectEachRowOnce(rows);
  });

  it('the key is in no output even when the simulator echoes it', async () => {
    const dir = await apiRunDir(apiExport({ users: 5, maxRows: 2 }).csv);
    sim.echoKey = true;
    const r = await send(dir, ['--app-id', 'no-such-app']);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).not.toContain(KEY);
    const bad = await runCli(['send', dir, '--app-id', lp.appId, '--api-url', lp.apiUrl], { env: env({ LEANPLUM_PROD_KEY: `${KEY}-wrong` }) });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('Invalid access key');
    expect(bad.stderr + bad.stdout).not.toContain(`${KEY}-wrong`);
    expect(await allText(dir)).not.toContain(KEY);
  });

  it('killed at random points of the send, then resumed (and --resend-unknown when it says so): each row applied exactly once', async () => {
    const { csv, rows } = apiExport({ users: 400, maxRows: 10 });
    const outcomes: string[] = [];
    for (const delay of [60, 150, 300, 500]) {
      sim.configureMulti({ reset: true, latencyMs: 40 });
      const dir = await apiRunDir(csv);
      const { child, done } = startCli(['send', dir, '--app-id', lp.appId, '--api-url', lp.apiUrl], { env: env() });
      await sleep(delay);
      child.kill('SIGKILL');
      await done;
      let r: CliResult = await send(dir);
      if (r.code === 4) {
        expect(r.stderr).toContain('SEND_UNKNOWN');
        const token = /--resend-unknown (u[0-9a-f]+)/.exec(r.stderr)![1]!;
        r = await send(dir, ['--resend-unknown', token]);
        outcomes.push('resent');
        // the same command again names an older state
        expect((await send(dir, ['--resend-unknown', token])).code).toBe(2);
      } else outcomes.push('resumed');
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      expectEachRowOnce(rows);
    }
    expect(outcomes).toHaveLength(4);
    // a kill while calls were out must have happened at least once (latency 40 ms, 4 in flight)
    expect(outcomes).toContain('resent');
  }, 120_000);
});
