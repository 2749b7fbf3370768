// The innermost module (with errors.ts): defaults and the shape of what a user gives. The
// validated TransformConfig is built in pipeline/transform-config.ts, which may use csv/ and time/.

/** Every default in one place; the README's option table mirrors this object. */
export const DEFAULTS = {
  maxDelay: '2d',
  clampAge: '360d',
  futureTolerance: '5m',
  minTime: '2000-01-01T00:00:00Z',
  tz: 'UTC',
  timeFormat: 'auto',
  clampMode: 'keep' as 'keep' | 'monotone',
  maxCount: 100_000,
  maxRejectRate: 0.01,
  maxPartBytes: 100 * 1024 * 1024,
  maxRecordBytes: 4 * 1024 * 1024,
  order: 'user' as 'user' | 'input',
  /** by content: zip, Parquet, NDJSON, JSON array or CSV */
  format: 'auto',
  /** JSON records read ahead to find the parameter names (the header) and check the paths */
  scanRecords: 10_000,
  sortMemory: '256MB',
} as const;

/** Transform options as a user gives them (strings from the command line). */
export interface RawTransformOptions {
  /** one or more paths (same header), or "-" alone for standard input */
  input: string | readonly string[];
  out: string;
  map?: readonly string[] | undefined;
  param?: readonly string[] | undefined;
  importAt?: string | undefined;
  maxDelay?: string | undefined;
  clampAge?: string | undefined;
  clampMode?: string | undefined;
  futureTolerance?: string | undefined;
  minTime?: string | undefined;
  tz?: string | undefined;
  timeFormat?: string | undefined;
  countColumn?: string | undefined;
  firstColumn?: string | undefined;
  lastColumn?: string | undefined;
  maxCount?: number | undefined;
  valueIsTotal?: boolean | undefined;
  dedupe?: boolean | undefined;
  originalTimeParam?: string | undefined;
  maxRejectRate?: number | undefined;
  delimiter?: string | undefined;
  sample?: number | undefined;
  maxPartBytes?: number | undefined;
  maxRecordBytes?: number | undefined;
  /** user: rows sorted by userId, time, position (external sort); input: the order read */
  order?: string | undefined;
  /** memory for the external sort, e.g. "256MB" (K/M/G are 1024-based) or bytes */
  sortMemory?: string | number | undefined;
  /** "i/N": keep only the users of shard i of N (the CLI resolves "auto" from the environment) */
  shard?: string | undefined;
  /** auto | csv | ndjson | json (zip and Parquet are always recognised by their first bytes) */
  format?: string | undefined;
  /** a vendor export: mixpanel, amplitude, segment, ga4 (firebase), posthog */
  preset?: string | undefined;
  /** JSON: objects whose every key becomes a parameter (dotted paths) */
  paramsFrom?: readonly string[] | undefined;
  /** JSON: the field that gives the user id to records without one (device_id, anonymousId…) */
  anonymous?: string | undefined;
  /** epoch times are wall-clock times in this IANA zone (Mixpanel projects created before 2023) */
  sourceTz?: string | undefined;
  /** JSON records read ahead to fix the header */
  scanRecords?: number | undefined;
  /** the column or path holding the vendor's event id; --dedupe then compares user, event and this id */
  dedupeKey?: string | undefined;
}
