// Start-up (issue 21): `lp-backfill transform` on a header-only CSV, timed as a whole process, in
// pairs with `node -e 0` (Node's own start) so that the machine's load hits both: the ratio of the
// medians and the absolute median. Target: median ≤ 0.3 s.
// Run by `npm run bench` (first), or alone: node dist/scripts/bench-startup.js [--repeats N].
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, root } from './bench-util.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function benchStartup(repeats: number): Promise<{ medianSeconds: number; overNode: number }> {
  const dir = join(root, '.bench');
  await mkdir(dir, { recursive: true });
  const input = join(dir, 'header-only.csv');
  await writeFile(input, 'userId,event,time\n');
  const out = join(dir, 'out-startup');
  const cli = join(root, 'dist/src/cli/main.js');
  const tool: number[] = [];
  const node: number[] = [];
  // one unmeasured run each first: the file cache, not the start, is what a first run measures
  for (let r = -1; r < repeats; r++) {
    await rm(out, { recursive: true, force: true });
    const t = await measure(cli, ['transform', input, '--out', out, '--quiet']);
    const n = await measure('-e', ['0']);
    if (r >= 0) {
      tool.push(t.seconds);
      node.push(n.seconds);
    }
  }
  await rm(out, { recursive: true, force: true });
  const row = {
    startupRuns: repeats,
    headerOnlyTransformMinS: +Math.min(...tool).toFixed(3),
    headerOnlyTransformMedianS: +median(tool).toFixed(3),
    nodeMinS: +Math.min(...node).toFixed(3),
    nodeMedianS: +median(node).toFixed(3),
    overNode: +(median(tool) / median(node)).toFixed(2),
  };
  console.log(JSON.stringify(row));
  console.log(`start-up target: header-only transform median ≤ 0.3 s: ${row.headerOnlyTransformMedianS <= 0.3 ? 'met' : 'NOT met'}`);
  return { medianSeconds: row.headerOnlyTransformMedianS, overNode: row.overNode };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const r = args.indexOf('--repeats');
  await benchStartup(r >= 0 ? Number(args[r + 1]) : 9);
}
