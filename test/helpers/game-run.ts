import { sample } from './run.js';
import { APP } from './servers.js';

/** The start of the previous hour, as ISO-8601: one import time for every run of a test file, so outputs compare byte for byte. */
export const hourAgo = (): string => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString().replace('.000Z', 'Z');

/** `lp-backfill run` of samples/mobile-game.csv against the stand-ins, quietly, as the crash and retry tests use it. */
export function gameRunArgs(o: { out: string; to: string; apiUrl: string; importAt: string; extra?: readonly string[] }): string[] {
  return [
    'run',
    sample('mobile-game.csv'),
    '--out',
    o.out,
    '--count-column',
    'count',
    '--import-at',
    o.importAt,
    '--yes',
    '--quiet',
    '--to',
    o.to,
    '--app-id',
    APP.id,
    '--api-url',
    o.apiUrl,
    '--poll-interval',
    '1s',
    '--timeout',
    '30s',
    ...(o.extra ?? []),
  ];
}
