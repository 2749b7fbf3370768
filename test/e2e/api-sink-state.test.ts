// `send <dir> --state-to gs://…`: the API sink's ledger mirrored to GCS, so that a retried task on a
// new machine (a fresh transform in an empty --out) never resends an answered batch.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiExport, apiRunDir } from '../helpers/api-run.js';
import { type CliResult, runCli, startCli } from '../helpers/cli.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';
import { until } from '../helpers/wait.js';
import { tempDir } from '../helpers/run.js';

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers();
});
afterAll(() => s.stop());
beforeEach(() => {
  s.sim.faults.clear();
  s.sim.configureMulti({ reset: true, latencyMs: 0, echoReqId: true, record: 'all', failEvents: [] });
});

const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_PROD_KEY: APP.prodKey, LEANPLUM_DEV_KEY: '' });
let n = 0;
const newState = () => `gs://${BUCKET}/api-states/t${++n}-${Date.now()}`;
const sendArgs = (dir: string, state: string, extra: string[] = []) => [
  'send',
  dir,
  '--app-id',
  APP.id,
  '--api-url',
  s.sim.apiUrl,
  '--state-to',
  state,
  ...extra,
];
const send = (dir: string, state: string, extra: string[] = []) => runCli(sendArgs(dir, state, extra), { env: env() });

/** Each clean row applied exactly once, under one reqId. */
function expectEachRowOnce(rows: number): void {
  const applied = s.sim.multi.appliedActions();
  const perReq = new Map<string, number>();
  for (const a of applied) perReq.set(a.reqId!, (perReq.get(a.reqId!) ?? 0) + 1);
  expect(applied).toHaveLength(rows);
  expect(perReq.size).toBe(rows);
}

describe('send --state-to: the send ledger mirrored to GCS', () => {
  it('a clean send leaves the ledger in GCS; a new task with a fresh transform sends nothing more', async () => {
    const { csv, rows } = apiExport({ users: 120, maxRows: 8 });
    const state = newState();
    const r = await send(await apiRunDir(csv), state);
    expect(r.code).toBe(0);
    expectEachRowOnce(rows);
    const chunks = s.gcs.listObjects(BUCKET).filter((o) => o.name.startsWith(`${state.replace(`gs://${BUCKET}/`, '')}/send-ledger/`));
    expect(chunks.length).toBeGreaterThan(0);
    const calls = s.sim.multi.stats.calls;
    const again = await send(await apiRunDir(csv), state);
    expect(again.stderr).toContain('taking that run');
    expect(again.code).toBe(0);
    expect(s.sim.multi.stats.calls).toBe(calls);
  });

  it('killed after some answers, a task on a new machine sends each row exactly once: answered batches never again, in-flight ones only on --resend-unknown', async () => {
    const { csv, rows } = apiExport({ users: 600, maxRows: 10 });
    const outcomes: string[] = [];
    for (const answers of [3, 12]) {
      s.sim.configureMulti({ reset: true, latencyMs: 40 });
      const state = newState();
      const { child, done } = startCli(sendArgs(await apiRunDir(csv), state), { env: env() });
      let finished = false;
      void done.then(() => (finished = true));
      await until(() => finished || s.sim.multi.stats.answered >= answers, 'some answers');
      child.kill('SIGKILL');
      await done;
      const answeredBefore = s.sim.multi.stats.answered;
      // the retried task: a new machine, an empty --out transformed again
      const fresh = await apiRunDir(csv);
      let r: CliResult = await send(fresh, state);
      let unknownRows = 0;
      if (r.code === 4) {
        expect(r.stderr).toContain('SEND_UNKNOWN');
        unknownRows = Number(/\((\d+) row\(s\)\) were sent but no answer/.exec(r.stderr)![1]);
        const token = /--resend-unknown (u[0-9a-f]+)/.exec(r.stderr)![1]!;
        r = await send(fresh, state, ['--resend-unknown', token]);
        outcomes.push('resent');
      } else outcomes.push('resumed');
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      expectEachRowOnce(rows);
      const st = s.sim.multi.stats;
      // every action received was applied once or dropped as a duplicate; duplicates only from the
      // batches named unknown (resent on the user's word), never from an answered batch
      expect(st.actionsReceived).toBe(rows + st.duplicates);
      expect(st.duplicates).toBeLessThanOrEqual(unknownRows);
      expect(answeredBefore).toBeGreaterThanOrEqual(answers);
    }
    expect(outcomes).toContain('resent');
  }, 120_000);

  it('run --sink api --state-to: a retried task with an empty --out sends nothing already answered', async () => {
    const { csv, rows } = apiExport({ users: 90, maxRows: 6 });
    const work = await tempDir();
    const input = join(work, 'events.csv');
    await writeFile(input, csv);
    const state = newState();
    const importAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const run = (out: string) =>
      runCli(
        [
          'run',
          input,
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
          '--max-reject-rate',
          '1',
          '--sink',
          'api',
          '--app-id',
          APP.id,
          '--api-url',
          s.sim.apiUrl,
          '--state-to',
          state,
          '--import-at',
          importAt,
        ],
        { env: env() },
      );
    const first = await run(join(work, 'first'));
    expect(first.code).toBe(0);
    expectEachRowOnce(rows);
    const calls = s.sim.multi.stats.calls;
    const again = await run(join(work, 'second'));
    expect(again.code).toBe(0);
    expect(s.sim.multi.stats.calls).toBe(calls);
  });

  it('refuses a directory whose transform is not the run in GCS', async () => {
    const state = newState();
    expect((await send(await apiRunDir(apiExport({ users: 20, maxRows: 3 }).csv), state)).code).toBe(0);
    const other = await apiRunDir(apiExport({ users: 21, maxRows: 3 }).csv);
    const r = await send(other, state);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('holds another transform');
  });
});
