// `--kind users` (issue 19) on 1M one-row users: a people CSV (user id, created, country, locale
// and six attributes, one row per user), merged one user at a time from the sorted records. The
// target, peak RSS ≤ 200 MB, is checked at --sort-memory 32MB (as for --kind totals); the default
// --sort-memory 256MB is measured too, against the sorted events' target (≤ 356 MB): the sort holds
// in memory what it is allowed to.
// Run alone: npm run build && node dist/scripts/bench-users.js [--rows N]
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, root, writeGenerated, xorshift } from './bench-util.js';

const TARGET_MB = 200;
/** the sorted events' target at the default --sort-memory (bench.ts) */
const DEFAULT_TARGET_MB = 356;

/** Deterministic people CSV: one row per user, in an order unrelated to the user id. */
async function generate(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  const rnd = xorshift(88675123);
  const plans = ['free', 'pro', 'team', 'enterprise'];
  const countries = ['NO', 'DE', 'US', 'BR', 'JP', 'IN'];
  const T = Date.parse('2026-11-20T00:00:00Z');
  await writeGenerated(path, 'user_id,email,name,plan,score,vip,signup_at,country,locale,referrer\n', async (emit) => {
    for (let i = 0; i < rows; i++) {
      // unique ids (the row number at the end) in an order unrelated to their sort order
      const id = `user-${((i * 2654435761) >>> 0).toString(36)}-${i}`;
      const signup = new Date(T - Math.floor(rnd() * 1500 * 86_400_000)).toISOString().replace('.000Z', 'Z');
      const name = rnd() < 0.2 ? `"Lee, ${Math.floor(rnd() * 1e4)}"` : `Name ${Math.floor(rnd() * 1e6)}`;
      const score = rnd() < 0.1 ? '' : String(Math.floor(rnd() * 10_000));
      await emit(
        `${id},${id}@example.com,${name},${plans[Math.floor(rnd() * plans.length)]},${score},${rnd() < 0.05},${signup},${countries[Math.floor(rnd() * countries.length)]},en_US,${rnd() < 0.5 ? 'ads' : ''}\n`,
      );
    }
  });
}

export async function benchUsers(rows = 1_000_000): Promise<{ met: boolean; results: { sortMemory: string; peakRssMB: number }[] }> {
  const dir = join(root, '.bench');
  await mkdir(dir, { recursive: true });
  const input = join(dir, `users-${rows}.csv`);
  await generate(input, rows);
  const cli = join(root, 'dist/src/cli/main.js');
  const results: { sortMemory: string; peakRssMB: number }[] = [];
  let met = true;
  for (const sortMemory of ['256MB', '32MB']) {
    const out = join(dir, 'out-users');
    await rm(out, { recursive: true, force: true });
    const m = await measure(cli, [
      'transform',
      input,
      '--out',
      out,
      '--kind',
      'users',
      '--map',
      'userId=user_id',
      '--map',
      'created=signup_at',
      '--sort-memory',
      sortMemory,
      '--canary',
      '0',
      '--no-report',
      '--quiet',
    ]);
    const s = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    const peakRssMB = Math.round(m.rssMb);
    const ok = peakRssMB <= (sortMemory === '32MB' ? TARGET_MB : DEFAULT_TARGET_MB) && s.conservation.ok === true && s.counts.written === rows;
    met &&= ok;
    results.push({ sortMemory, peakRssMB });
    console.log(
      JSON.stringify({
        kind: 'users',
        sortMemory,
        rowsRead: s.counts.read,
        usersWritten: s.counts.written,
        attributes: s.users.attributes.length,
        sortRuns: s.sort.runs,
        seconds: +m.seconds.toFixed(1),
        rowsPerS: Math.round(s.counts.read / m.seconds),
        peakRssMB,
      }),
    );
    await rm(out, { recursive: true, force: true });
  }
  console.log(
    `targets: --kind users on ${rows.toLocaleString('en-US')} one-row users (conservation ok, one row per user), peak RSS ≤ ${TARGET_MB} MB at --sort-memory 32MB and ≤ ${DEFAULT_TARGET_MB} MB at the default 256MB: ${results.map((r) => `${r.peakRssMB} MB at ${r.sortMemory}`).join(', ')}: ${met ? 'met' : 'NOT met'}`,
  );
  return { met, results };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--rows');
  await benchUsers(i >= 0 ? Number(process.argv[i + 1]) : 1_000_000);
}
