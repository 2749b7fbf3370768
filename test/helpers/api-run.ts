import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawTransformOptions } from '../../src/config.js';
import { withRunLock } from '../../src/run/lock.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { transformStage } from '../../src/pipeline/transform-stage.js';
import { tempDir } from './run.js';

const DAY = 86_400;

/**
 * A game-like export for the API sink: `users` players with 1..`maxRows` events each (one player
 * with `bigUser` events, more than one call holds), times within the last 300 days, some events
 * named `bad_event` when `bad` (for per-action failures). Deterministic.
 */
export function apiExport(o: { users: number; maxRows: number; bigUser?: number; bad?: boolean }): { csv: string; rows: number } {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const now = Math.floor(Date.now() / 1000);
  let csv = 'user_id,event_name,ts,level\n';
  let rows = 0;
  for (let u = 0; u < o.users; u++) {
    const n = u === 3 && o.bigUser !== undefined ? o.bigUser : 1 + Math.floor(rnd() * o.maxRows);
    for (let i = 0; i < n; i++) {
      const event = o.bad === true && i === 1 && u % 7 === 0 ? 'bad_event' : ['open', 'level_up', 'purchase'][i % 3]!;
      csv += `player_${u},${event},${now - Math.floor(rnd() * 300 * DAY)},${i % 10}\n`;
      rows++;
    }
  }
  return { csv, rows };
}

/** Transforms `csv` into a fresh run directory (manifest and all), as `lp-backfill transform` would. */
export async function apiRunDir(csv: string, opts: Partial<RawTransformOptions> = {}): Promise<string> {
  const work = await tempDir();
  const input = join(work, 'events.csv');
  await writeFile(input, csv);
  const out = join(work, 'run');
  const cfg = buildTransformConfig(
    { maxRejectRate: 1, map: ['userId=user_id', 'event=event_name', 'time=ts'], param: ['level'], ...opts, input, out },
    new Date(),
  );
  await withRunLock(out, 'transform', (lock) => transformStage(lock, cfg, { report: false }), { create: true });
  return out;
}
