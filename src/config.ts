// The innermost module (with errors.ts): defaults and the shape of what a user gives. The
// validated TransformConfig is built in transform/transform-config.ts, which may use csv/ and time/.

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
  /** how text inputs are decoded; bytes that are not UTF-8 stop the transform */
  encoding: 'utf-8',
  /** what is imported: events (track), users or totals (setUserAttributes); model/kinds.ts */
  kind: 'events',
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
  maxCount?: number | string | undefined;
  valueIsTotal?: boolean | undefined;
  dedupe?: boolean | undefined;
  originalTimeParam?: string | undefined;
  maxRejectRate?: number | string | undefined;
  delimiter?: string | undefined;
  sample?: number | string | undefined;
  /** a size: bytes, or "100MB", "256MiB" (parseSize) */
  maxPartBytes?: number | string | undefined;
  maxRecordBytes?: number | string | undefined;
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
  scanRecords?: number | string | undefined;
  /** the column or path holding the vendor's event id; --dedupe then compares user, event and this id */
  dedupeKey?: string | undefined;
  /** how the input's bytes are decoded: utf-8 (default; invalid bytes stop the transform), latin1, windows-1252, utf-16le, utf-16be */
  encoding?: string | undefined;
  /** users imported first and alone (the canary); 0: none; not given: 100 when more than 2,000 users */
  canary?: number | string | undefined;
  /** events | users | totals (model/kinds.ts) */
  kind?: string | undefined;
  /** --kind users: --attr <col>[=<name>] (only these are attributes), --drop-attr <col>, --rename-attr <col>=<name> */
  attr?: readonly string[] | undefined;
  dropAttr?: readonly string[] | undefined;
  renameAttr?: readonly string[] | undefined;
  /** --kind users: an empty value clears the attribute (API sink only) */
  clearEmpty?: boolean | undefined;
}

/**
 * Bytes in "256MB", "256MiB", "32M", "64k", "1.5GB" or "65536": one syntax for every size flag.
 * K, M, G (with or without B or iB) are 1024-based, as GNU sort -S reads them, so "100MB" and
 * "100MiB" are the same size. undefined when unreadable.
 */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmg])(?:i?b)?|b)?\s*$/i.exec(text);
  if (m === null) return undefined;
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const v = Math.floor(Number(m[1]) * mult);
  return Number.isSafeInteger(v) ? v : undefined;
}
