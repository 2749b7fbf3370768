// NDJSON throughput (issue 12): `lp-backfill transform --preset mixpanel --order input` as a ratio
// to a plain readline + JSON.parse (+ JSON.stringify out) pass-through of the same file, measured in
// the same run, each in its own process, plus peak RSS. Targets: ratio ≥ 0.8, peak RSS ≤ 150 MB.
// Run by `npm run bench` (after the CSV cases), or alone: node dist/scripts/bench-ndjson.js [--rows N].
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, root, writeGenerated, xorshift } from './bench-util.js';

const dir = join(root, '.bench');
const IMPORT_AT = '2026-11-20T00:00:00Z';

/** Deterministic Mixpanel-like export (xorshift): system keys, custom ones, a nested object, an array. */
async function generate(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  const rnd = xorshift(88172645);
  const events = ['App Open', 'Level Complete', 'Purchase', 'Ad Watched', 'Item View', 'Share', 'Sign Up', 'Tutorial Step'];
  const T = Date.parse(IMPORT_AT) / 1000;
  await writeGenerated(path, '', async (emit) => {
    for (let i = 0; i < rows; i++) {
      const e = events[Math.floor(rnd() * events.length)]!;
      const p: Record<string, unknown> = {
        time: T - Math.floor(rnd() * 700 * 86_400),
        distinct_id: rnd() < 0.1 ? 1e18 + Math.floor(rnd() * 1e6) * 1000 : `u${Math.floor(rnd() * 200_000)}`,
        $insert_id: `ins${i.toString(36)}x${Math.floor(rnd() * 1e9).toString(36)}`,
        $os: rnd() < 0.5 ? 'iOS' : 'Android',
        $app_version_string: `3.${Math.floor(rnd() * 20)}.0`,
        mp_lib: 'swift',
        mp_processing_time_ms: T * 1000 + Math.floor(rnd() * 1e6),
        level: Math.floor(rnd() * 90),
        plan: rnd() < 0.3 ? 'pro' : 'free',
        sku: `sku-${Math.floor(rnd() * 1e6)}`,
      };
      if (e === 'Purchase') {
        p['price'] = Math.floor(rnd() * 10000) / 100;
        p['currency'] = 'USD';
        p['items'] = ['sword', 'shield'].slice(0, 1 + Math.floor(rnd() * 2));
      }
      if (rnd() < 0.2) p['referrer'] = { source: 'ads', campaign: `c${Math.floor(rnd() * 50)}` };
      await emit(JSON.stringify({ event: e, properties: p }) + '\n');
    }
  });
}

export async function benchNdjson(rows: number, repeats: number): Promise<{ ratio: number; transformPeakRssMB: number }> {
  await mkdir(dir, { recursive: true });
  const input = join(dir, `bench-mixpanel-${rows}.ndjson`);
  process.stderr.write(`generating ${rows.toLocaleString('en')} NDJSON records…\n`);
  await generate(input, rows);
  const out = join(dir, 'out-ndjson');
  const best = { pass: Infinity, tf: Infinity, passRss: 0, tfRss: 0 };
  for (let r = 0; r < repeats; r++) {
    const p = await measure(join(root, 'dist/scripts/bench-ndjson-passthrough.js'), [input, join(dir, 'passthrough.ndjson')]);
    await rm(out, { recursive: true, force: true });
    const t = await measure(join(root, 'dist/src/cli/main.js'), [
      'transform',
      input,
      '--out',
      out,
      '--import-at',
      IMPORT_AT,
      '--preset',
      'mixpanel',
      '--map',
      'value=properties.price',
      '--map',
      'currencyCode=properties.currency',
      '--order',
      'input',
      '--quiet',
    ]);
    best.pass = Math.min(best.pass, p.seconds);
    best.tf = Math.min(best.tf, t.seconds);
    best.passRss = Math.max(best.passRss, p.rssMb);
    best.tfRss = Math.max(best.tfRss, t.rssMb);
  }
  const mb = statSync(input).size / 1e6;
  const row = {
    ndjsonRows: rows,
    inputMB: +mb.toFixed(1),
    passthroughRowsPerS: Math.round(rows / best.pass),
    transformRowsPerS: Math.round(rows / best.tf),
    transformMBPerS: +(mb / best.tf).toFixed(1),
    ratio: +(best.pass / best.tf).toFixed(3),
    passthroughPeakRssMB: Math.round(best.passRss),
    transformPeakRssMB: Math.round(best.tfRss),
  };
  console.log(JSON.stringify(row));
  const met = row.ratio >= 0.8 && row.transformPeakRssMB <= 150;
  console.log(`NDJSON targets: ratio ≥ 0.8 and peak RSS ≤ 150 MB: ${met ? 'met' : 'NOT met'}`);
  await rm(out, { recursive: true, force: true });
  return { ratio: row.ratio, transformPeakRssMB: row.transformPeakRssMB };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--rows');
  const r = args.indexOf('--repeats');
  await benchNdjson(i >= 0 ? Number(args[i + 1]) : 1_000_000, r >= 0 ? Number(args[r + 1]) : 2);
}
