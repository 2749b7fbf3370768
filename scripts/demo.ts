// npm run demo — the whole job on a bundled sample, against local stand-ins for GCS and Leanplum.
// Nothing to configure: both servers start on free loopback ports and stop at the end.
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GcsEmulator } from '../test/stand-ins/gcs-emulator.js';
import { LeanplumSimulator } from '../test/stand-ins/leanplum-simulator.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
const out = join(root, 'runs', `demo-${stamp}`);
const bucket = 'leanplum-demo-imports';
const app = { id: 'demo-app', devKey: 'demo-dev-key-0000', prodKey: 'demo-prod-key-0000' };
const readerToken = 'leanplum-service-account';

await mkdir(join(root, 'runs'), { recursive: true });
// a fresh GCS stand-in each time: its bucket keeps the import ledger, which (rightly) refuses to
// import the same samples into the same app twice — a second `npm run demo` would stop there
await rm(join(root, 'runs', '.gcs-emulator'), { recursive: true, force: true });
const gcs = new GcsEmulator({ dataDir: join(root, 'runs', '.gcs-emulator'), buckets: { [bucket]: { readers: [readerToken] } } });
await gcs.start();
const sim = new LeanplumSimulator({ apps: { [app.id]: { devKey: app.devKey, prodKey: app.prodKey } }, gcsUrl: gcs.url, readerToken, stepMs: 400 });
await sim.start();
console.log(`GCS stand-in      ${gcs.url}  (bucket ${bucket})`);
console.log(`Leanplum stand-in ${sim.apiUrl}  (app ${app.id})\n`);

/** One `lp-backfill run` against the stand-ins, printed as a user would type it. */
async function run(args: string[]): Promise<number> {
  console.log(
    `$ lp-backfill ${args
      .slice(1)
      .map((x) => (x.includes(' ') || x.includes('#') ? JSON.stringify(x) : x))
      .join(' ')}\n`,
  );
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: 'inherit',
      env: { ...process.env, STORAGE_EMULATOR_HOST: gcs.url, LEANPLUM_DEV_KEY: app.devKey, LEANPLUM_PROD_KEY: app.prodKey },
    });
    child.on('close', (c) => resolve(c ?? 1));
  });
}
const common = ['--to', `gs://${bucket}/backfills`, '--app-id', app.id, '--api-url', sim.apiUrl, '--yes', '--poll-interval', '1s', '--timeout', '2m'];
const code = await run([
  join(root, 'dist/src/cli/main.js'),
  'run',
  join(root, 'samples/mobile-game.csv'),
  '--out',
  out,
  '--count-column',
  'count',
  '--original-time-param',
  'original_time',
  ...common,
]);
// A vendor export: Amplitude's zip of gzipped NDJSON, through its preset. The sample holds a broken
// line on purpose (1 of 8 records), hence the higher --max-reject-rate.
const presetOut = `${out}-amplitude`;
console.log('');
const presetCode = await run([
  join(root, 'dist/src/cli/main.js'),
  'run',
  join(root, 'samples/amplitude-export.zip'),
  '--out',
  presetOut,
  '--preset',
  'amplitude',
  '--anonymous',
  'device_id',
  '--dedupe',
  '--max-reject-rate',
  '0.2',
  ...common,
]);
// The API sink: the same sample through Leanplum's JSON multi call (no bucket; the Production key,
// here LEANPLUM_PROD_KEY): transform, look at the report, then send.
const apiOut = `${out}-api`;
console.log('');
const sample = ['--count-column', 'count', '--original-time-param', 'original_time'];
const main = join(root, 'dist/src/cli/main.js');
let apiCode = await run([main, 'transform', join(root, 'samples/mobile-game.csv'), '--out', apiOut, ...sample]);
console.log('');
if (apiCode === 0) apiCode = await run([main, 'send', apiOut, '--app-id', app.id, '--api-url', sim.apiUrl]);
// --kind users: a people CSV through the CSV job (defaultAction=setUserAttributes), one row per user
// (its two rows of u-001 merged: the latest value wins); the column address.city is renamed (a dot would nest).
const usersOut = `${out}-users`;
console.log('');
const usersCode = await run([
  main,
  'run',
  join(root, 'samples/users.csv'),
  '--out',
  usersOut,
  '--kind',
  'users',
  '--map',
  'userId=user_id',
  '--map',
  'created=signup_at',
  '--map',
  'time=updated_at',
  '--rename-attr',
  'address.city=address_city',
  ...common,
]);
await sim.stop();
await gcs.stop();
console.log(`
The run directory: ${out}
  report.html    the preview report, with the import results added   (open it in a browser)
  clean.csv      what was uploaded;  rejects.csv  rows refused before upload
  results/       Leanplum's per-row results;  server-rejects.csv  rows Leanplum flagged, traced to input lines
  manifest.json  every stage, the object name and the job id (run the same command again to resume)
lp-backfill exited with ${code}.
The preset run (Amplitude export): ${presetOut}  — lp-backfill exited with ${presetCode}.
The API sink run (transform, then send through JSON multi): ${apiOut}
  results/summary.json  sent, ok, failed, billable lookups;  send-ledger.ndjson  every call and its answer
  lp-backfill exited with ${apiCode}.
The users run (--kind users, one setUserAttributes row per user): ${usersOut}  — lp-backfill exited with ${usersCode}.`);
process.exitCode = [code, presetCode, apiCode, usersCode].find((c) => c !== 0) ?? 0;
