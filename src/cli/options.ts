import type { Argv } from 'yargs';
import { DEFAULTS, type RawTransformOptions } from '../config.js';
import type { FlagReader } from './flags.js';
import { resolveShardAuto } from './shard-env.js';
import { ENCODINGS } from '../input/encoding.js';
import { FORMAT_CHOICES } from '../input/format.js';
import { PRESET_NAMES } from '../presets/index.js';
import { KINDS } from '../model/kinds.js';

/** The transform options, shared by transform, preview and run. Names are part of the contract. */
export function withTransformOptions<T>(y: Argv<T>) {
  return y
    .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Output directory (created if missing)' })
    .option('map', {
      type: 'string',
      describe:
        'Source column (JSON: dotted path) for a Leanplum field: userId=<col>, event=<col>, time=<col>, value=<col>, currencyCode=<col>; --kind users: userId, time (latest wins), created, lastActive, locale, country, region, city, timezone (repeatable; wins over --preset)',
    })
    .option('param', {
      type: 'string',
      describe:
        'Carry a column (JSON: dotted path, e.g. properties.plan) as params.<name>: <col> or <col>=<name> (repeatable). Columns already named params.X are carried as they are',
    })
    .option('format', {
      choices: FORMAT_CHOICES,
      defaultDescription: DEFAULTS.format,
      describe: 'Input format; auto decides by the first bytes: PK zip, PAR1 Parquet, { NDJSON, [ JSON array, else CSV (gzip is always decoded)',
    })
    .option('attr', {
      type: 'string',
      describe:
        '--kind users: carry only the columns (JSON: dotted paths; with --preset: attribute names) named, as userAttributes.<name>: <col> or <col>=<name> (repeatable). Without it every column not mapped to a field is an attribute',
    })
    .option('drop-attr', { type: 'string', describe: '--kind users: this column (JSON: path or attribute name) is no attribute (repeatable)' })
    .option('rename-attr', {
      type: 'string',
      describe: '--kind users: <col>=<name>: the attribute of that column (JSON: path or attribute name) is called <name>; the others keep theirs (repeatable)',
    })
    .option('clear-empty', {
      type: 'boolean',
      default: false,
      describe:
        '--kind users: an empty value clears the attribute (sent as null by the API sink; the CSV job cannot express it and refuses such a run). Default: an empty value is not sent',
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
      type: 'string',
      defaultDescription: String(DEFAULTS.scanRecords),
      describe: 'JSON: records read ahead (at most 16 MB) to find the parameter names of the header; later new names are counted and named in the summary',
    })
    .option('dedupe-key', {
      type: 'string',
      describe:
        'With --dedupe: the column or path of the vendor event id ($insert_id, uuid, messageId); rows with the same user, event and id are duplicates (a preset names its own)',
    })
    .option('import-at', { type: 'string', describe: 'Import time T as an ISO-8601 instant (default: now)' })
    .option('max-delay', {
      type: 'string',
      defaultDescription: String(DEFAULTS.maxDelay),
      describe: 'Longest delay D between this transform and Leanplum processing the file',
    })
    .option('clamp-age', {
      type: 'string',
      defaultDescription: String(DEFAULTS.clampAge),
      describe: 'Age A that events older than the cutoff are moved to (T − A)',
    })
    .option('clamp-mode', {
      choices: ['keep', 'monotone'],
      defaultDescription: String(DEFAULTS.clampMode),
      describe: "keep: events at or after the cutoff are untouched; monotone: t' = max(t, T − A), never reorders events",
    })
    .option('future-tolerance', {
      type: 'string',
      defaultDescription: String(DEFAULTS.futureTolerance),
      describe: 'Events up to this far after T are set to T; later ones are rejected',
    })
    .option('min-time', {
      type: 'string',
      defaultDescription: String(DEFAULTS.minTime),
      describe: 'Times before this are rejected as implausible (epoch-zero nulls)',
    })
    .option('tz', { type: 'string', defaultDescription: String(DEFAULTS.tz), describe: 'IANA time zone for date-times without an offset' })
    .option('time-format', {
      type: 'string',
      defaultDescription: String(DEFAULTS.timeFormat),
      describe: 'auto | iso | unix-s | unix-ms | unix-us | unix-ns | a date-fns pattern (e.g. "dd/MM/yyyy HH:mm")',
    })
    .option('count-column', { type: 'string', describe: 'Column holding how many times the event happened; the row becomes that many rows' })
    .option('first-column', { type: 'string', describe: 'With --count-column: time of the first occurrence (spread evenly up to --last-column)' })
    .option('last-column', { type: 'string', describe: 'With --count-column: time of the last occurrence' })
    .option('max-count', {
      type: 'string',
      defaultDescription: String(DEFAULTS.maxCount),
      describe: 'Largest count accepted; larger rows are rejected (bad_count)',
    })
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
      type: 'string',
      defaultDescription: String(DEFAULTS.maxRejectRate),
      describe: 'Exit 3 (after writing everything) when more than this share of rows is rejected',
    })
    .option('delimiter', { type: 'string', describe: 'Input delimiter: , ; tab | (default: sniffed from the header line)' })
    .option('max-part-bytes', {
      type: 'string',
      defaultDescription: '100MB',
      describe: 'Split the clean CSV into parts of at most this size (bytes, or 100MB, 256MiB, 1G: 1024-based)',
    })
    .option('kind', {
      choices: KINDS,
      defaultDescription: String(DEFAULTS.kind),
      describe:
        'What is imported: events (one track row per occurrence); users (one setUserAttributes row per user: fields and userAttributes.<name>); totals (one setUserAttributes row per user: events.<name>.count|firstTime|lastTime|value). users and totals need --order user (docs/kinds.md)',
    })
    .option('order', {
      choices: ['user', 'input'],
      defaultDescription: String(DEFAULTS.order),
      describe:
        'user: clean rows sorted by userId, then time, then source position (external merge sort; far fewer billable lookups); input: the order read (streaming)',
    })
    .option('sort-memory', {
      type: 'string',
      defaultDescription: String(DEFAULTS.sortMemory),
      describe: 'Memory for the external sort of --order user, e.g. 256MB, 1GB (1024-based); larger inputs spill sorted runs to disk',
    })
    .option('shard', {
      type: 'string',
      describe:
        'i/N: keep only the users of shard i of N (first 8 bytes of SHA-256 of the userId, mod N); auto: i and N from the batch engine (Kubernetes Indexed Job, Cloud Run Job, AWS Batch array job)',
    })
    .option('shard-count', {
      type: 'string',
      describe: 'With --shard auto: the number of shards N (Kubernetes does not tell the container); or LP_BACKFILL_SHARD_COUNT',
    })
    .option('max-record-bytes', {
      type: 'string',
      defaultDescription: '4MB',
      describe: 'Largest input record accepted (a size, e.g. 4MB); a larger one (usually a quote never closed) stops the transform with its line (exit 2)',
    })
    .option('canary', {
      type: 'string',
      defaultDescription: '100 when more than 2,000 users',
      describe:
        'Users (chosen by a hash of the user id) written to their own first part and imported alone first; the rest only if none of their rows failed. 0: no canary. Needs --order user',
    })
    .option('encoding', {
      choices: ENCODINGS,
      defaultDescription: 'utf-8',
      describe: 'How the input bytes are decoded; invalid UTF-8 stops the transform (exit 2) naming the line, never replaced',
    })
    .group(
      [
        'map',
        'param',
        'params-from',
        'preset',
        'anonymous',
        'dedupe-key',
        'count-column',
        'first-column',
        'last-column',
        'value-is-total',
        'max-count',
        'original-time-param',
        'attr',
        'drop-attr',
        'rename-attr',
        'clear-empty',
      ],
      'Mapping:',
    )
    .group(['format', 'encoding', 'delimiter', 'scan-records', 'max-record-bytes'], 'Input:')
    .group(['import-at', 'max-delay', 'clamp-age', 'clamp-mode', 'future-tolerance', 'min-time', 'tz', 'time-format', 'source-tz'], 'Time:')
    .group(['out', 'kind', 'max-part-bytes', 'max-reject-rate', 'dedupe', 'canary'], 'Output:')
    .group(['order', 'sort-memory', 'shard', 'shard-count'], 'Order & shards:');
}

/**
 * The transform options as given, every single-value flag read by the repeat rule (flags.ts).
 * Numbers and sizes stay text here: buildTransformConfig reads them strictly and names what it found.
 */
export function rawTransformOptions(r: FlagReader, input: readonly string[], env: NodeJS.ProcessEnv): RawTransformOptions {
  return {
    input,
    out: r.string('out') ?? '',
    map: r.list('map'),
    param: r.list('param'),
    importAt: r.string('import-at'),
    maxDelay: r.string('max-delay'),
    clampAge: r.string('clamp-age'),
    clampMode: r.string('clamp-mode'),
    futureTolerance: r.string('future-tolerance'),
    minTime: r.string('min-time'),
    tz: r.string('tz'),
    timeFormat: r.string('time-format'),
    countColumn: r.string('count-column'),
    firstColumn: r.string('first-column'),
    lastColumn: r.string('last-column'),
    maxCount: r.string('max-count'),
    valueIsTotal: r.bool('value-is-total'),
    dedupe: r.bool('dedupe'),
    originalTimeParam: r.string('original-time-param'),
    maxRejectRate: r.string('max-reject-rate'),
    delimiter: r.string('delimiter'),
    sample: r.string('sample'),
    maxPartBytes: r.string('max-part-bytes'),
    maxRecordBytes: r.string('max-record-bytes'),
    order: r.string('order'),
    sortMemory: r.string('sort-memory'),
    shard: shardOption(r, env),
    format: r.string('format'),
    preset: r.string('preset'),
    paramsFrom: r.list('params-from'),
    anonymous: r.string('anonymous'),
    sourceTz: r.string('source-tz'),
    scanRecords: r.string('scan-records'),
    dedupeKey: r.string('dedupe-key'),
    encoding: r.string('encoding'),
    canary: r.string('canary'),
    kind: r.string('kind'),
    attr: r.list('attr'),
    dropAttr: r.list('drop-attr'),
    renameAttr: r.list('rename-attr'),
    clearEmpty: r.bool('clear-empty'),
  };
}

/** --shard as given, with `auto` resolved here (only the CLI reads the environment). */
function shardOption(r: FlagReader, env: NodeJS.ProcessEnv): string | undefined {
  const shard = r.string('shard');
  const countText = r.string('shard-count');
  if (countText !== undefined && shard !== 'auto') {
    r.problem('shard-count: only read with --shard auto; give --shard <i>/<N>, or --shard auto --shard-count <N>');
    return shard;
  }
  const count = countText === undefined ? undefined : r.int('shard-count', 1);
  if (countText !== undefined && count === undefined) return undefined;
  return shard === 'auto' ? resolveShardAuto(env, count) : shard;
}
