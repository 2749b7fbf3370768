import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MultiClient } from '../../src/leanplum/multi-client.js';
import { withRunLock } from '../../src/run/lock.js';
import { loadManifest } from '../../src/run/manifest.js';
import { LEDGER_FILE, LedgerWriter, readLedger } from '../../src/sinks/api/send-ledger.js';
import { judgeSend, type SendOptions, sendStage } from '../../src/sinks/api/send-stage.js';
import { apiExport, apiRunDir } from '../helpers/api-run.js';
import { type LeanplumSimulator, startApiSimulator } from '../stand-ins/leanplum-simulator.js';

let lp: Awaited<ReturnType<typeof startApiSimulator>>;
let sim: LeanplumSimulator;

beforeAll(async () => {
  lp = await startApiSimulator({ appId: 'app-api', prodKey: 'prod-SECRET-api-9876' });
  sim = lp.sim;
});
afterAll(() => sim.stop());
beforeEach(() => {
  sim.faults.clear();
  sim.configureMulti({ reset: true, latencyMs: 0, echoReqId: true, record: 'all', failEvents: [] });
});

const logs: string[] = [];
const opts = (over: Partial<SendOptions> = {}): SendOptions => ({
  apiUrl: lp.apiUrl,
  appId: lp.appId,
  concurrency: 4,
  maxRps: undefined,
  now: () => new Date(),
  resendUnknown: [],
  skipUnknown: [],
  command: 'lp-backfill send <dir>',
  ...over,
});
const client = () => new MultiClient({ apiUrl: lp.apiUrl, appId: lp.appId, clientKey: lp.prodKey, sleep: async () => undefined });
const send = (dir: string, over: Partial<SendOptions> = {}, c = client()) =>
  withRunLock(dir, 'send', async (lock) => sendStage(lock, (await loadManifest(dir))!, c, opts(over), (_e, _f, text) => logs.push(text)));

describe('API sink send stage against the simulator', () => {
  it('sends every clean row once, in calls within the limits, never two in flight for one user; a second send sends nothing', async () => {
    const { csv, rows } = apiExport({ users: 400, maxRows: 12, bigUser: 1234 });
    const dir = await apiRunDir(csv);
    sim.configureMulti({ latencyMs: 20 });
    const s = await send(dir);
    const applied = sim.multi.appliedActions();
    expect(applied).toHaveLength(rows);
    expect(new Set(applied.map((a) => a.reqId)).size).toBe(rows);
    expect(sim.multi.stats).toMatchObject({ status403: 0, status429: 0, lockConflicts: 0, duplicates: 0 });
    expect(sim.multi.stats.maxInFlight).toBeGreaterThan(1);
    expect(sim.multi.stats.maxInFlight).toBeLessThanOrEqual(4);
    expect(s).toMatchObject({ sink: 'api', sent: rows, ok: rows, warned: 0, failed: 0, retries: 0 });
    // what Leanplum counts as billable is what the tool says it is
    expect(s.billableLookups).toBe(sim.multi.stats.billableLookups);
    expect(s.requests).toBe(sim.multi.stats.calls);
    // the actions say what the clean rows say
    const clean = parse(await readFile(join(dir, 'clean.csv')), { columns: true }) as Record<string, string>[];
    const byReq = new Map(applied.map((a) => [a.reqId, a.data]));
    expect(byReq.size).toBe(clean.length);
    const sample = applied.slice(0, 50).map((a) => [a.userId, a.event, a.time]);
    for (const [u, e, t] of sample) expect(clean.some((c) => c['userId'] === u && c['event'] === e && Number(c['time']) === t)).toBe(true);
    const m = await loadManifest(dir);
    expect(m).toMatchObject({ sink: 'api', leanplum: { appId: lp.appId, apiUrl: lp.apiUrl } });
    expect(m!.send!.completedAt).toBeDefined();
    const calls = sim.multi.stats.calls;
    const again = await send(dir);
    expect(sim.multi.stats.calls).toBe(calls);
    expect(again.sent).toBe(rows);
  });

  it('per-action failures and warnings go to server-rejects.csv with their source line and the clean row, and exit 5', async () => {
    const { csv } = apiExport({ users: 40, maxRows: 5, bad: true });
    const dir = await apiRunDir(csv);
    sim.configureMulti({ failEvents: ['bad_event'] });
    const s = await send(dir);
    const badRows = csv.split('\n').filter((l) => l.includes('bad_event')).length;
    expect(badRows).toBeGreaterThan(0);
    expect(s.failed).toBe(badRows);
    expect(s.byMessage).toEqual({ 'Event rejected: bad_event': badRows });
    const rejects = parse(await readFile(join(dir, 'server-rejects.csv')), { columns: true }) as Record<string, string>[];
    expect(rejects).toHaveLength(badRows);
    const lines = csv.split('\n');
    for (const r of rejects) {
      expect(r['kind']).toBe('error');
      expect(r['event']).toBe('bad_event');
      // the source line holds the same row
      const src = lines[Number(r['sourceLine']) - 1]!;
      expect(src).toContain(`${r['userId']},bad_event,`);
      expect(r['sourceFile']).toMatch(/events\.csv$/);
    }
    expect(judgeSend(s)?.code).toBe('JOB_ROW_FAILURES');
  });

  it('429 with Retry-After and 503 are retried with the same actions; every row lands once', async () => {
    const { csv, rows } = apiExport({ users: 60, maxRows: 8 });
    const dir = await apiRunDir(csv);
    sim.throttleMulti(2, 1);
    sim.unavailableMulti(2);
    const s = await send(dir);
    expect(sim.multi.appliedActions()).toHaveLength(rows);
    expect(s.retries).toBe(4);
    expect(s.ok).toBe(rows);
  });

  it('a lost answer is retried with the same uuid and reqIds: the simulator drops the duplicates, each row applied once', async () => {
    const { csv, rows } = apiExport({ users: 60, maxRows: 8 });
    const dir = await apiRunDir(csv);
    sim.loseMultiAnswers(1);
    await send(dir);
    expect(sim.multi.appliedActions()).toHaveLength(rows);
    expect(sim.multi.stats.duplicates).toBeGreaterThan(0);
  });

  it('a batch in flight when the run stopped is unknown: exit 4 naming it and the token; an older token is refused; --resend-unknown sends exactly it', async () => {
    const { csv, rows } = apiExport({ users: 60, maxRows: 8 });
    const dir = await apiRunDir(csv);
    await send(dir);
    const all = await readLedger(dir);
    const first = all.find((x) => x.e === 'send')!;
    // as if the process died after the send line of batch 0 was durable: its answer never recorded
    const kept = all.filter((x) => !(x.e === 'answer' && x.n === 0));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, LEDGER_FILE), kept.map((x) => JSON.stringify(x) + '\n').join(''));
    const m = (await loadManifest(dir))!;
    delete m.send!.completedAt;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    const e = (await send(dir).catch((x: unknown) => x)) as Error & { code: string; hint: string };
    expect(e).toMatchObject({ code: 'SEND_UNKNOWN' });
    const token = /--resend-unknown (u[0-9a-f]+)/.exec(e.hint)![1]!;
    expect(e.hint).toContain(`--skip-unknown ${token}`);
    expect(await send(dir, { resendUnknown: ['u0000000000'] }).catch((x: unknown) => x)).toMatchObject({ code: 'STAGE_REFUSED' });
    const before = sim.multi.stats.calls;
    await send(dir, { resendUnknown: [token] });
    expect(sim.multi.stats.calls).toBe(before + 1);
    // the resent batch carried the same reqIds: the simulator applied nothing twice
    expect(sim.multi.appliedActions()).toHaveLength(rows);
    expect(sim.multi.stats.duplicates).toBe(first.e === 'send' ? first.rows : -1);
    // the same command again names an older state
    expect(await send(dir, { resendUnknown: [token] }).catch((x: unknown) => x)).toMatchObject({ code: 'STAGE_REFUSED' });
  });

  it('no batch is sent once the clamp is stale', async () => {
    const { csv } = apiExport({ users: 10, maxRows: 3 });
    const dir = await apiRunDir(csv);
    const late = () => new Date(Date.now() + 3 * 86_400_000);
    expect(await send(dir, { now: late }).catch((x: unknown) => x)).toMatchObject({ code: 'CLAMP_STALE' });
    expect(sim.multi.stats.calls).toBe(0);
    expect(await readLedger(dir)).toEqual([]);
  });

  it('the ledger is appended with group commit (fewer fsyncs than entries under concurrency)', async () => {
    const dir = await apiRunDir(apiExport({ users: 5, maxRows: 2 }).csv);
    const w = await LedgerWriter.open(dir);
    await Promise.all([0, 1, 2, 3].map((n) => w.append({ e: 'send', n, first: n, rows: 1, users: 1, hash: 'x', at: 't' })));
    await w.close();
    expect(w.syncs).toBeLessThan(4);
  });
});
