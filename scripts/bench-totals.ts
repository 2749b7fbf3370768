// `--kind totals` (issue 19) on the 1M-row benchmark export at --sort-memory 32MB: one row per
// user folded from the user-ordered stream, so peak RSS must stay near what the sorted events
// transform takes at the same --sort-memory (target ≤ 200 MB), measured in the same bench run.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, root } from './bench-util.js';

export async function benchTotals(input: string, importAt: string, sortMemory = '32MB'): Promise<{ peakRssMB: number; met: boolean }> {
  const cli = join(root, 'dist/src/cli/main.js');
  const out = join(root, '.bench', 'out-totals');
  await rm(out, { recursive: true, force: true });
  const m = await measure(cli, [
    'transform',
    input,
    '--out',
    out,
    '--import-at',
    importAt,
    '--count-column',
    'count',
    '--map',
    'userId=user_id',
    '--kind',
    'totals',
    '--sort-memory',
    sortMemory,
    '--no-report',
    '--quiet',
  ]);
  const s = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  const peakRssMB = Math.round(m.rssMb);
  const met = peakRssMB <= 200 && s.conservation.ok === true;
  console.log(
    JSON.stringify({
      kind: 'totals',
      sortMemory,
      rowsRead: s.counts.read,
      occurrences: s.counts.occurrences,
      usersWritten: s.counts.written,
      eventNames: s.totals.eventNames,
      sortRuns: s.sort.runs,
      seconds: +m.seconds.toFixed(1),
      rowsPerS: Math.round(s.counts.read / m.seconds),
      peakRssMB,
      lookupsAsEvents: s.cost.byKind.events,
      lookupsAsTotals: s.cost.byKind.totals,
    }),
  );
  console.log(`targets: --kind totals at --sort-memory ${sortMemory} peak RSS ≤ 200 MB (conservation ok): ${met ? 'met' : 'NOT met'}`);
  await rm(out, { recursive: true, force: true });
  return { peakRssMB, met };
}
