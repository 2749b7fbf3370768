import type { Argv } from 'yargs';
import { DEFAULTS, type RawTransformOptions } from '../config.js';
import { BackfillError } from '../errors.js';
import { resolveShardAuto } from './shard-env.js';
import { FORMAT_CHOICES } from '../json/format.js';
import { PRESET_NAMES } from '../presets/index.js';

/** The transform options, shared by transform, preview and run. Names are part of the contract. */
export function withTransformOptions<T>(y: Argv<T>) {
  return y
    .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Output directory (created if missing)' })
    .option('map', {
      type: 'string',
      describe:
        'Source column (JSON: dotted path) for a Leanplum field: userId=<col>, event=<col>, time=<col>, value=<col>, currencyCode=<col> (repeatable; wins over --preset)',
    })
    .option('param', {
      type: 'string',
      describe:
        'Carry a column (JSON: dotted path, e.g. properties.plan) as params.<name>: <col> or <col>=<name> (repeatable). Columns already named params.X are carried as they are',
    })
    .option('format', {
      choices: FORMAT_CHOICES,
      default: DEFAULTS.format,
      describe: 'Input format; auto decides by the first bytes: PK zip, PAR1 Parquet, { NDJSON, [ JSON array, else CSV (gzip is always decoded)',
    })
    .option('preset', { choices: PRESET_NAMES, describe: 'A vendor export (JSON/Parquet): the mapping of its fields; --map and --param win over it' })
    .option('params-from', {
      type: 'string',
      describe: 'JSON: every key of this object (dotted path, e.g. properties) becomes params.<key>; nested objects flattened with . (repeatable)',
    })
    .option('anonymous', {
      type: 'string',
      describe:
        'JSON: records without a user id take it from this field (e.g. device_id, anonymousId, user_pseudo_id); else they are rejected (missing_user_id)',
    })
    .option('source-tz', { type: 'string', describe: 'Epoch times are wall-clock times in this IANA zone, not UTC (Mixpanel projects created before 2023)' })
    .option('scan-records', {
      type: 'number',
      default: DEFAULTS.scanRecords,
      describe: 'JSON: records read ahead (at most 16 MB) to find the parameter names of the header; later new names are counted and named in the summary',
    })
    .option('dedupe-key', {
      type: 'string',
      describe:
        'With --dedupe: the column or path of the vendor event id ($insert_id, uuid, messageId); rows with the same user, event and id are duplicates (a preset names its own)',
    })
    .option('import-at', { type: 'string', describe: 'Import time T as an ISO-8601 instant (default: now)' })
    .option('max-delay', { type: 'string', default: DEFAULTS.maxDelay, describe: 'Longest delay D between this transform and Leanplum processing the file' })
    .option('clamp-age', { type: 'string', default: DEFAULTS.clampAge, describe: 'Age A that events older than the cutoff are moved to (T − A)' })
    .option('clamp-mode', {
      choices: ['keep', 'monotone'],
      default: DEFAULTS.clampMode,
      describe: "keep: events at or after the cutoff are untouched; monotone: t' = max(t, T − A), never reorders events",
    })
    .option('future-tolerance', {
      type: 'string',
      default: DEFAULTS.futureTolerance,
      describe: 'Events up to this far after T are set to T; later ones are rejected',
    })
    .option('min-time', { type: 'string', default: DEFAULTS.minTime, describe: 'Times before this are rejected as implausible (epoch-zero nulls)' })
    .option('tz', { type: 'string', default: DEFAULTS.tz, describe: 'IANA time zone for date-times without an offset' })
    .option('time-format', {
      type: 'string',
      default: DEFAULTS.timeFormat,
      describe: 'auto | iso | unix-s | unix-ms | unix-us | unix-ns | a date-fns pattern (e.g. "dd/MM/yyyy HH:mm")',
    })
    .option('count-column', { type: 'string', describe: 'Column holding how many times the event happened; the row becomes that many rows' })
    .option('first-column', { type: 'string', describe: 'With --count-column: time of the first occurrence (spread evenly up to --last-column)' })
    .option('last-column', { type: 'string', describe: 'With --count-column: time of the last occurrence' })
    .option('max-count', { type: 'number', default: DEFAULTS.maxCount, describe: 'Largest count accepted; larger rows are rejected (bad_count)' })
    .option('value-is-total', {
      type: 'boolean',
      default: false,
      describe: 'The value column is the total of all occurrences (split evenly), not per occurrence',
    })
    .option('dedupe', {
      type: 'boolean',
      default: false,
      describe:
        'Drop rows that repeat an earlier row (keeps the first by source position). With --order user it happens in the sort, in bounded memory; with --order input memory grows with distinct rows',
    })
    .option('original-time-param', { type: 'string', describe: 'Keep the original time of clamped rows as params.<name> (ISO-8601 UTC)' })
    .option('max-reject-rate', {
      type: 'number',
      default: DEFAULTS.maxRejectRate,
      describe: 'Exit 3 (after writing everything) when more than this share of rows is rejected',
    })
    .option('delimiter', { type: 'string', describe: 'Input delimiter: , ; tab | (default: sniffed from the header line)' })
    .option('max-part-bytes', { type: 'number', default: DEFAULTS.maxPartBytes, describe: 'Split the clean CSV into parts of at most this many bytes' })
    .option('order', {
      choices: ['user', 'input'],
      default: DEFAULTS.order,
      describe:
        'user: clean rows sorted by userId, then time, then source position (external merge sort; far fewer billable lookups); input: the order read (streaming)',
    })
    .option('sort-memory', {
      type: 'string',
      default: DEFAULTS.sortMemory,
      describe: 'Memory for the external sort of --order user, e.g. 256MB, 1GB (1024-based); larger inputs spill sorted runs to disk',
    })
    .option('shard', {
      type: 'string',
      describe:
        'i/N: keep only the users of shard i of N (first 8 bytes of SHA-256 of the userId, mod N); auto: i and N from the batch engine (Kubernetes Indexed Job, Cloud Run Job, AWS Batch array job)',
    })
    .option('shard-count', {
      type: 'number',
      describe: 'With --shard auto: the number of shards N (Kubernetes does not tell the container); or LP_BACKFILL_SHARD_COUNT',
    })
    .option('max-record-bytes', {
      type: 'number',
      default: DEFAULTS.maxRecordBytes,
      describe: 'Largest input record accepted; a larger one (usually a quote never closed) stops the transform with its line (exit 2)',
    });
}

type Args = Record<string, unknown>;
const str = (a: Args, k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
const num = (a: Args, k: string) => (typeof a[k] === 'number' ? (a[k] as number) : undefined);
// repeated flags arrive as an array, a single one as a string ('array: true' would swallow the input path)
export const list = (a: Args, k: string): string[] | undefined => (a[k] === undefined ? undefined : ([] as unknown[]).concat(a[k]).map(String));

export function rawTransformOptions(a: Args, input: readonly string[]): RawTransformOptions {
  return {
    input,
    out: str(a, 'out') ?? '',
    map: list(a, 'map'),
    param: list(a, 'param'),
    importAt: str(a, 'import-at'),
    maxDelay: str(a, 'max-delay'),
    clampAge: str(a, 'clamp-age'),
    clampMode: str(a, 'clamp-mode'),
    futureTolerance: str(a, 'future-tolerance'),
    minTime: str(a, 'min-time'),
    tz: str(a, 'tz'),
    timeFormat: str(a, 'time-format'),
    countColumn: str(a, 'count-column'),
    firstColumn: str(a, 'first-column'),
    lastColumn: str(a, 'last-column'),
    maxCount: num(a, 'max-count'),
    valueIsTotal: a['value-is-total'] === true,
    dedupe: a['dedupe'] === true,
    originalTimeParam: str(a, 'original-time-param'),
    maxRejectRate: num(a, 'max-reject-rate'),
    delimiter: str(a, 'delimiter'),
    sample: num(a, 'sample'),
    maxPartBytes: num(a, 'max-part-bytes'),
    maxRecordBytes: num(a, 'max-record-bytes'),
    order: str(a, 'order'),
    sortMemory: str(a, 'sort-memory'),
    shard: shardOption(a),
    format: str(a, 'format'),
    preset: str(a, 'preset'),
    paramsFrom: list(a, 'params-from'),
    anonymous: str(a, 'anonymous'),
    sourceTz: str(a, 'source-tz'),
    scanRecords: num(a, 'scan-records'),
    dedupeKey: str(a, 'dedupe-key'),
  };
}

/** --shard as given, with `auto` resolved here (only the CLI reads the environment). */
function shardOption(a: Args): string | undefined {
  const shard = str(a, 'shard');
  const count = a['shard-count'];
  if (count !== undefined && shard !== 'auto') {
    throw new BackfillError('CONFIG_INVALID', 'shard-count: only read with --shard auto', 'Give --shard <i>/<N>, or --shard auto --shard-count <N>.');
  }
  if (count !== undefined && (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1)) {
    throw new BackfillError('CONFIG_INVALID', `shard-count: expected a whole number ≥ 1, found ${String(count)}`);
  }
  return shard === 'auto' ? resolveShardAuto(process.env, count as number | undefined) : shard;
}
