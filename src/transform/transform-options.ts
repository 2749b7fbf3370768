import { createHash } from 'node:crypto';
import { formatDuration } from '../time/duration.js';
import { formatShard } from '../events/shard.js';
import type { TransformConfig } from './transform-config.js';
import { isoSeconds as iso } from '../time/iso.js';

// Config fields that are not options of the output: where the inputs and outputs are, and the
// parts of the rule that are spelled out above (or fixed by the platform).
const NOT_OPTIONS = new Set([
  'inputs',
  'outDir',
  'rule',
  'importAtGiven',
  'mapping',
  'timeFormat',
  'timeFormatText',
  'zone',
  'maxCount',
  'valueIsTotal',
  'dedupe',
  'maxRejectRate',
  'delimiter',
  'sample',
  'maxPartBytes',
  'order',
  'kind',
  'sortMemory',
  'shard',
]);

/**
 * The options that decide what a transform writes, by flag name, in a form a person can compare
 * ("2d", not 172800). A default import time ("now") is left out: it is not a choice.
 */
export function effectiveOptions(cfg: TransformConfig): Record<string, unknown> {
  const r = cfg.rule;
  const m = cfg.mapping;
  const o: Record<string, unknown> = {
    map: Object.fromEntries(Object.entries(m.map).sort(([a], [b]) => a.localeCompare(b))),
    param: m.params.map((p) => (p.column === p.name ? p.column : `${p.column}=${p.name}`)),
    'count-column': m.countColumn ?? null,
    'first-column': m.firstColumn ?? null,
    'last-column': m.lastColumn ?? null,
    'original-time-param': m.originalTimeParam ?? null,
    'dedupe-key': m.dedupeKey ?? null,
    'max-delay': formatDuration(r.maxDelay),
    'clamp-age': formatDuration(r.clampAge),
    'clamp-mode': r.mode,
    'future-tolerance': formatDuration(r.futureTolerance),
    'min-time': iso(r.minTime),
    tz: cfg.zone,
    'time-format': cfg.timeFormatText,
    'max-count': cfg.maxCount,
    'value-is-total': cfg.valueIsTotal,
    dedupe: cfg.dedupe,
    'max-reject-rate': cfg.maxRejectRate,
    delimiter: cfg.delimiter ?? null,
    sample: cfg.sample ?? null,
    'max-part-bytes': cfg.maxPartBytes,
    order: cfg.order,
    // a run directory keeps its kind: resuming it as another is OPTIONS_CHANGED (run/run-machine.ts)
    kind: cfg.kind,
    // a retried task resumes its own shard; another shard is another run (--sort-memory changes nothing written)
    shard: cfg.shard === undefined ? null : formatShard(cfg.shard),
  };
  if (cfg.importAtGiven) o['import-at'] = iso(r.importAt);
  // an option added to the config later takes part by its config name until it gets a line above
  for (const [k, v] of Object.entries(cfg)) {
    if (!NOT_OPTIONS.has(k)) o[k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)] = v ?? null;
  }
  return o;
}

/** sha256 of the options as canonical JSON (keys sorted), recorded in the manifest. */
export function optionsHash(options: Record<string, unknown>): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, canon(x)]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canon(options)))
    .digest('hex');
}
