// API sink throughput (issue 18): 1M clean rows (--order user) sent to the Leanplum simulator's JSON
// multi, the sender in its own process (peak RSS measured there; the simulator runs here, in
// 'counts' mode). Targets: ≥ 50,000 actions/s with no added latency; ≥ 80% of
// concurrency × 500 / latency with 50 ms added; peak RSS ≤ 150 MB. Also the ledger's durable append
// (group-commit NDJSON) against rewriting a JSON file per entry.
// Run by `npm run bench` (last), or alone: node dist/scripts/bench-api.js [--rows N].
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../src/files/json-file.js';
import { LedgerWriter } from '../src/sinks/api/send-ledger.js';
import { startApiSimulator } from '../test/stand-ins/leanplum-simulator.js';
import { measure, root, writeGenerated, xorshift } from './bench-util.js';

const dir = join(root, '.bench');
const cli = join(root, 'dist/src/cli/main.js');
const sender = join(root, 'dist/scripts/bench-api-send.js');

/** ~20 events per user (so calls fill to ~500 actions), times in the last 300 days of the real clock. */
async function generate(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  const rnd = xorshift(1597334677);
  const events = ['app_open', 'level_complete', 'purchase', 'ad_watched', 'item_view', 'share'];
  const now = Math.floor(Date.now() / 1000);
  const users = Math.max(1, Math.floor(rows / 20));
  await writeGenerated(path, 'user_id,event,time,level,sku\n', async (emit) => {
    for (let i = 0; i < rows; i++) {
      await emit(
        `u${Math.floor(rnd() * users)},${events[Math.floor(rnd() * events.length)]},${now - Math.floor(rnd() * 300 * 86_400)},${Math.floor(rnd() * 90)},sku-${Math.floor(rnd() * 1e5)}\n`,
      );
    }
  });
}

/** Ledger append (group commit) vs a JSON file rewritten durably per entry, `n` sequential entries each. */
async function ledgerCost(n: number): Promise<{ ndjsonMsPerEntry: number; jsonRewriteMsPerEntry: number }> {
  const d = join(dir, 'ledger-cost');
  await rm(d, { recursive: true, force: true });
  await mkdir(d, { recursive: true });
  const entry = (i: number) => ({ e: 'answer' as const, n: i, at: new Date().toISOString(), attempts: 1, ok: 500, warned: 0, failed: 0, flagged: [] });
  let t = process.hrtime.bigint();
  const w = await LedgerWriter.open(d);
  for (let i = 0; i < n; i++) await w.append(entry(i));
  await w.close();
  const ndjson = Number(process.hrtime.bigint() - t) / 1e6 / n;
  t = process.hrtime.bigint();
  const all: unknown[] = [];
  for (let i = 0; i < n; i++) {
    all.push(entry(i));
    await writeJsonAtomic(join(d, 'ledger.json'), all);
  }
  const json = Number(process.hrtime.bigint() - t) / 1e6 / n;
  await rm(d, { recursive: true, force: true });
  return { ndjsonMsPerEntry: +ndjson.toFixed(3), jsonRewriteMsPerEntry: +json.toFixed(3) };
}

export async function benchApi(rows: number, concurrency = 4): Promise<void> {
  await mkdir(dir, { recursive: true });
  const input = join(dir, `bench-api-${rows}.csv`);
  process.stderr.write(`API sink: generating ${rows.toLocaleString()} rows…\n`);
  await generate(input, rows);
  const lp = await startApiSimulator({ multi: { record: 'counts', echoReqId: true } });
  const results: Record<string, unknown>[] = [];
  try {
    for (const latencyMs of [0, 50]) {
      const out = join(dir, `out-api-${latencyMs}`);
      await rm(out, { recursive: true, force: true });
      // a fresh transform each time: the clamp is computed for now, and a run directory sends once
      await measure(cli, ['transform', input, '--out', out, '--map', 'userId=user_id', '--param', 'level', '--param', 'sku', '--order', 'user', '--no-report']);
      lp.sim.configureMulti({ reset: true, latencyMs });
      const m = await measure(sender, [out, lp.apiUrl, lp.appId, String(concurrency)], 0, { LEANPLUM_PROD_KEY: lp.prodKey });
      const summary = JSON.parse(/@@summary (.*)/.exec(m.stderr)![1]!) as { sent: number; requests: number; billableLookups: number; batches: number };
      const stats = lp.sim.multi.stats;
      const perSecond = summary.sent / m.seconds;
      const ceiling = latencyMs === 0 ? undefined : (concurrency * 500) / (latencyMs / 1000);
      results.push({
        case: `api-send latency ${latencyMs} ms, concurrency ${concurrency}`,
        rows,
        sent: summary.sent,
        applied: stats.applied,
        batches: summary.batches,
        avgActionsPerCall: Math.round(summary.sent / summary.batches),
        billableLookups: summary.billableLookups,
        seconds: +m.seconds.toFixed(2),
        actionsPerSecond: Math.round(perSecond),
        ...(ceiling === undefined ? {} : { ofCeiling: +(perSecond / ceiling).toFixed(2) }),
        peakRssMB: Math.round(m.rssMb),
        lockConflicts: stats.lockConflicts,
      });
      console.log(JSON.stringify(results.at(-1)));
      await rm(out, { recursive: true, force: true });
    }
  } finally {
    await lp.sim.stop();
  }
  const ledger = await ledgerCost(300);
  console.log(JSON.stringify({ case: 'send ledger: durable append per entry', ...ledger }));
  const [fast, slow] = results as { actionsPerSecond: number; peakRssMB: number; ofCeiling: number; sent: number; applied: number }[];
  const met = (b: boolean) => (b ? 'met' : 'NOT met');
  console.log(
    `targets (API sink): ≥ 50,000 actions/s with no added latency: ${met(fast!.actionsPerSecond >= 50_000)}; ≥ 80% of concurrency×500/latency at 50 ms: ${met(slow!.ofCeiling >= 0.8)}; peak RSS ≤ 150 MB: ${met(Math.max(fast!.peakRssMB, slow!.peakRssMB) <= 150)}; every row applied once: ${met(fast!.sent === rows && fast!.applied === rows && slow!.applied === rows)}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--rows');
  await benchApi(i >= 0 ? Number(args[i + 1]) : 1_000_000);
}
