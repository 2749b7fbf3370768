import { DEFAULTS, parseSize, type RawTransformOptions } from '../config.js';
import { BackfillError } from '../errors.js';
import { DAY, PLATFORM_WINDOW, ruleProblems, type ClampMode, type TimeRule } from '../time/clamp.js';
import { parseDuration } from '../time/duration.js';
import { isValidZone, parseTime, parseTimeFormat, timePatternProblem, type TimeFormat } from '../time/parse.js';
import { TARGET_FIELDS, type MappingOptions } from '../input/mapping.js';
import { DELIMITERS } from '../input/csv/sniff.js';
import { ENCODINGS, parseEncoding, type Encoding } from '../input/encoding.js';
import { parseShard, type Shard } from '../events/shard.js';
import { FORMAT_CHOICES, type FormatChoice } from '../input/format.js';
import { PRESET_NAMES } from '../presets/index.js';
import { isKind, KINDS, type Kind } from '../model/kinds.js';
import { USER_TARGETS, type UserMappingOptions } from '../input/user-mapping.js';
import { attributeNameProblem, attributeRename } from '../events/user-names.js';

export interface TransformConfig {
  inputs: string[];
  outDir: string;
  rule: TimeRule;
  /** --import-at was given (else T is "now", which a resumed run does not compare) */
  importAtGiven: boolean;
  timeFormat: TimeFormat;
  timeFormatText: string;
  zone: string;
  mapping: MappingOptions;
  maxCount: number;
  valueIsTotal: boolean;
  dedupe: boolean;
  maxRejectRate: number;
  delimiter: string | undefined;
  sample: number | undefined;
  maxPartBytes: number;
  /** largest input record; bounds memory when a quote is never closed */
  maxRecordBytes: number;
  /** user: clean rows sorted by userId, time, source position (external sort); input: as read */
  order: 'user' | 'input';
  /** bytes the external sort may hold in memory (--order user) */
  sortMemory: number;
  /** keep only this shard's users (--shard i/N) */
  shard: Shard | undefined;
  /** --format: auto (by the first bytes), or csv, ndjson, json forced */
  format: FormatChoice;
  /** --preset: a vendor export's mapping (JSON and Parquet inputs) */
  preset: string | undefined;
  /** --params-from: JSON objects whose keys become parameters */
  paramsFrom: string[];
  /** --anonymous: the user id of records without one */
  anonymous: string | undefined;
  /** --source-tz: epoch times are wall-clock times in this zone */
  sourceTz: string | undefined;
  /** --scan-records: JSON records read ahead to fix the header */
  scanRecords: number;
  /** --encoding: how text inputs are decoded (utf-8: checked, never replaced) */
  encoding: Encoding;
  /** --kind users: the mapping of fields and attributes, and --clear-empty; undefined for the other kinds */
  users: UsersConfig | undefined;
  /** --canary N: users imported first and alone (0: none; undefined: 100 when more than 2,000 users, with --order user) */
  canary: number | undefined;
  /** --kind: events (track rows), users or totals (one setUserAttributes row per user; model/kinds.ts) */
  kind: Kind;
}

/** --kind users: which column (path) is which field, which are attributes, and --clear-empty. */
export interface UsersConfig extends UserMappingOptions {
  clearEmpty: boolean;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function instant(text: string, path: string, problems: string[]): number {
  if (!ISO_INSTANT.test(text) || Number.isNaN(Date.parse(text))) {
    problems.push(`${path}: expected an ISO-8601 instant with Z or an offset (e.g. 2026-11-25T09:00:00Z), found "${text}"`);
    return NaN;
  }
  // the rows' own ISO reader: 2026-02-30 is refused there, where Date.parse rolls it over to March
  const t = parseTime(text, 'iso', 'UTC');
  if (!t.ok) {
    problems.push(`${path}: "${text}" is not a real calendar date and time`);
    return NaN;
  }
  return t.seconds;
}

function duration(text: string, path: string, problems: string[]): number {
  const s = parseDuration(text);
  if (s === undefined) problems.push(`${path}: expected a duration like 90s, 5m, 12h or 2d, found "${text}"`);
  return s ?? NaN;
}

/** A whole number as typed ("10000", not "1e4", "0x10" or "12abc"), at least `min`. */
function wholeNumber(v: number | string, path: string, min: number, problems: string[]): number {
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) problems.push(`${path}: expected a whole number ≥ ${min}, found ${JSON.stringify(v)}`);
  return n;
}

/** A share from 0 to 1 ("0.05"; not "5%", which would read as 5). */
function shareOf(v: number | string, path: string, problems: string[]): number {
  const n = typeof v === 'number' ? v : /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 1)) problems.push(`${path}: expected a number from 0 to 1 (e.g. 0.05 for 5%), found ${JSON.stringify(v)}`);
  return n;
}

/** A size: bytes, or 100MB / 256MiB / 1.5G (1024-based), at least `min` bytes. */
function size(v: number | string, path: string, min: number, problems: string[]): number {
  const n = parseSize(v);
  if (n === undefined || n < min)
    problems.push(
      `${path}: expected a size of at least ${min} bytes, as bytes or with K, M or G (e.g. 100MB, 256MiB, 1G; 1024-based), found ${JSON.stringify(v)}`,
    );
  return n ?? NaN;
}

/** "a=b" pairs; `--map` keys must be Leanplum fields (of the kind: events, or users). */
function parseMap<F extends string>(
  items: readonly string[],
  problems: string[],
  fields: readonly F[] = TARGET_FIELDS as unknown as readonly F[],
  others = 'other columns go with --param',
): Partial<Record<F, string>> {
  const out: Partial<Record<F, string>> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = item.slice(0, eq) as F;
    if (eq <= 0 || eq === item.length - 1) {
      problems.push(`map: expected <field>=<column> (e.g. --map userId=user_id), found "${item}"`);
    } else if (!fields.includes(key)) {
      problems.push(
        `map: "${key}" is not a Leanplum field${fields === (TARGET_FIELDS as unknown) ? '' : ' of --kind users'}; use one of ${fields.join(', ')} (${others})`,
      );
    } else if (out[key] !== undefined && out[key] !== item.slice(eq + 1)) {
      // which column is the user id (or the time…) must never depend on which copy wins
      problems.push(`map: ${key} is mapped twice, to "${out[key]}" and to "${item.slice(eq + 1)}"; give --map ${key}=<column> once`);
    } else {
      out[key] = item.slice(eq + 1);
    }
  }
  return out;
}

/** --kind users: the attribute flags, and the event flags that have no meaning for users (refused, not ignored). */
function usersConfig(raw: RawTransformOptions, users: boolean, problems: string[]): UsersConfig | undefined {
  const given = (flag: string, v: unknown) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0) && flag;
  if (!users) {
    const flags = [
      given('--attr', raw.attr),
      given('--drop-attr', raw.dropAttr),
      given('--rename-attr', raw.renameAttr),
      given('--clear-empty', raw.clearEmpty),
    ].filter(Boolean);
    if (flags.length > 0) problems.push(`${flags.join(', ')}: only with --kind users (attributes of users); add --kind users, or leave them out`);
    return undefined;
  }
  const eventOnly = [
    given('--param', raw.param),
    given('--params-from', raw.paramsFrom),
    given('--count-column', raw.countColumn),
    given('--first-column', raw.firstColumn),
    given('--last-column', raw.lastColumn),
    given('--value-is-total', raw.valueIsTotal),
    given('--max-count', raw.maxCount),
    given('--original-time-param', raw.originalTimeParam),
    given('--dedupe', raw.dedupe),
    given('--dedupe-key', raw.dedupeKey),
  ].filter(Boolean);
  if (eventOnly.length > 0)
    problems.push(
      `${eventOnly.join(', ')}: options of events, not of --kind users (a users row merges every record of a user; attributes are named with --attr, --drop-attr, --rename-attr); leave them out`,
    );
  const renames: { column: string; name: string }[] = [];
  for (const item of raw.renameAttr ?? []) {
    const eq = item.lastIndexOf('=');
    if (eq <= 0 || eq === item.length - 1)
      problems.push(`rename-attr: expected <column>=<name> (e.g. --rename-attr address.city=address_city), found "${item}"`);
    else renames.push({ column: item.slice(0, eq), name: item.slice(eq + 1) });
  }
  const attrs = parseParams(raw.attr ?? []);
  for (const a of [...attrs, ...renames]) {
    const why = attributeNameProblem(a.name);
    if (why !== undefined && (a.name !== a.column || renames.includes(a))) {
      const better = attributeRename(a.name);
      problems.push(`attr: the name "${a.name}" ${why}: Leanplum refuses it${better !== undefined ? `; e.g. ${a.column}=${better}` : ''}`);
    }
  }
  return {
    map: parseMap(raw.map ?? [], problems, USER_TARGETS, 'other columns are attributes'),
    attrs,
    dropAttrs: [...(raw.dropAttr ?? [])],
    renames,
    clearEmpty: raw.clearEmpty ?? false,
    anonymous: raw.anonymous,
  };
}

function parseParams(items: readonly string[]): { column: string; name: string }[] {
  return items.map((item) => {
    const eq = item.lastIndexOf('=');
    return eq > 0 ? { column: item.slice(0, eq), name: item.slice(eq + 1) } : { column: item, name: item };
  });
}

/** Validates everything at once and reports every problem as "path: message". */
export function buildTransformConfig(raw: RawTransformOptions, now: Date): TransformConfig {
  const problems: string[] = [];
  const importAt = raw.importAt === undefined ? Math.floor(now.getTime() / 1000) : instant(raw.importAt, 'import-at', problems);
  const maxDelay = duration(raw.maxDelay ?? DEFAULTS.maxDelay, 'max-delay', problems);
  const clampAge = duration(raw.clampAge ?? DEFAULTS.clampAge, 'clamp-age', problems);
  const futureTolerance = duration(raw.futureTolerance ?? DEFAULTS.futureTolerance, 'future-tolerance', problems);
  const minTime = instant(raw.minTime ?? DEFAULTS.minTime, 'min-time', problems);
  const zone = raw.tz ?? DEFAULTS.tz;
  if (!isValidZone(zone)) problems.push(`tz: "${zone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
  const mode = raw.clampMode ?? DEFAULTS.clampMode;
  if (mode !== 'keep' && mode !== 'monotone') problems.push(`clamp-mode: expected keep or monotone, found "${mode}"`);
  const timeFormatText = raw.timeFormat ?? DEFAULTS.timeFormat;
  const timeFormat = parseTimeFormat(timeFormatText);
  const patternProblem = typeof timeFormat === 'object' ? timePatternProblem(timeFormat.pattern) : undefined;
  if (patternProblem !== undefined) {
    problems.push(
      `time-format: "${timeFormatText}" is neither auto, iso, unix-s/ms/us/ns nor a usable date-fns pattern: ${patternProblem} (e.g. "dd/MM/yyyy HH:mm"; tokens: https://date-fns.org/docs/parse)`,
    );
  }
  const maxCount = wholeNumber(raw.maxCount ?? DEFAULTS.maxCount, 'max-count', 1, problems);
  const maxRejectRate = shareOf(raw.maxRejectRate ?? DEFAULTS.maxRejectRate, 'max-reject-rate', problems);
  const maxPartBytes = size(raw.maxPartBytes ?? DEFAULTS.maxPartBytes, 'max-part-bytes', 1024, problems);
  const maxRecordBytes = size(raw.maxRecordBytes ?? DEFAULTS.maxRecordBytes, 'max-record-bytes', 1024, problems);
  const delimiter = raw.delimiter === 'tab' || raw.delimiter === '\\t' ? '\t' : raw.delimiter;
  if (delimiter !== undefined && !(DELIMITERS as readonly string[]).includes(delimiter)) {
    problems.push(`delimiter: expected one of , ; tab |, found ${JSON.stringify(raw.delimiter)}`);
  }
  const sample = raw.sample === undefined ? undefined : wholeNumber(raw.sample, 'sample', 1, problems);
  if (raw.out === '') problems.push('out: an output directory is required (--out <dir>)');
  const inputs = typeof raw.input === 'string' ? [raw.input] : [...raw.input];
  if (inputs.length === 0) problems.push('input: name at least one export file (or - for standard input)');
  if (inputs.length > 1 && inputs.includes('-')) problems.push('input: - (standard input) cannot be combined with files');
  const users = usersConfig(raw, raw.kind === 'users', problems);
  if (raw.kind === 'totals') {
    const given = [
      raw.param?.length ? '--param' : undefined,
      raw.paramsFrom?.length ? '--params-from' : undefined,
      raw.originalTimeParam !== undefined ? '--original-time-param' : undefined,
    ].filter((x) => x !== undefined);
    if (given.length > 0)
      problems.push(
        `${given.join(', ')}: options of events, not of --kind totals (a totals row holds per event only count, firstTime, lastTime and value: no parameters); leave them out, or use --kind events to import the parameters`,
      );
  }
  const map = users === undefined ? parseMap(raw.map ?? [], problems) : {};
  const order = raw.order ?? DEFAULTS.order;
  if (order !== 'user' && order !== 'input') problems.push(`order: expected user or input, found "${order}"`);
  const sortMemory = size(raw.sortMemory ?? DEFAULTS.sortMemory, 'sort-memory', 1024, problems);
  const shard = raw.shard === undefined ? undefined : parseShard(raw.shard);
  if (typeof shard === 'string') problems.push(`shard: ${shard}`);
  const format = (raw.format ?? DEFAULTS.format) as FormatChoice;
  if (!FORMAT_CHOICES.includes(format))
    problems.push(`format: expected ${FORMAT_CHOICES.join(', ')}, found "${raw.format}" (zip and Parquet are recognised by their first bytes)`);
  if (raw.preset !== undefined && !PRESET_NAMES.includes(raw.preset))
    problems.push(`preset: expected one of ${PRESET_NAMES.join(', ')}, found "${raw.preset}"`);
  if (raw.sourceTz !== undefined && !isValidZone(raw.sourceTz))
    problems.push(`source-tz: "${raw.sourceTz}" is not an IANA time zone (e.g. Europe/Berlin, America/Los_Angeles)`);
  const scanRecords = wholeNumber(raw.scanRecords ?? DEFAULTS.scanRecords, 'scan-records', 1, problems);
  const encoding = parseEncoding(raw.encoding ?? DEFAULTS.encoding);
  if (encoding === undefined) problems.push(`encoding: expected one of ${ENCODINGS.join(', ')}, found ${JSON.stringify(raw.encoding)}`);
  const paramsFrom = [...(raw.paramsFrom ?? [])];
  for (const p of paramsFrom) if (p.trim() === '') problems.push('params-from: expected a dotted path to an object (e.g. properties), found an empty one');
  for (const [flag, v] of [
    ['anonymous', raw.anonymous],
    ['dedupe-key', raw.dedupeKey],
  ] as const)
    if (v !== undefined && v.trim() === '') problems.push(`${flag}: expected a field name or dotted path, found an empty one`);
  // a key without the switch would be accepted and do nothing: the user meant to dedupe
  if (raw.dedupeKey !== undefined && raw.dedupe !== true)
    problems.push(`dedupe-key: only used with --dedupe (found --dedupe-key ${raw.dedupeKey} alone); add --dedupe`);

  const canary = raw.canary === undefined ? undefined : wholeNumber(raw.canary, 'canary', 0, problems);
  // a canary needs each user's rows together (part 1 holds the canary users only); never dropped silently
  if (canary !== undefined && canary > 0 && order === 'input')
    problems.push(
      `canary: --canary ${canary} needs the rows grouped by user (--order user); with --order input there is no canary: give --order user, or leave out --canary (or --canary 0)`,
    );
  const kind = raw.kind ?? DEFAULTS.kind;
  if (!isKind(kind)) problems.push(`kind: expected one of ${KINDS.join(', ')}, found ${JSON.stringify(kind)}`);
  // one row per user is folded from the user-ordered stream, one user at a time (bounded memory)
  else if (kind !== 'events' && order === 'input')
    problems.push(
      `kind: --kind ${kind} writes one row per user, folded from the rows sorted by user; --order input keeps the rows as read, so a user's rows are not together: leave out --order input (--order user is the default)`,
    );

  const clock = Math.floor(now.getTime() / 1000);
  const rule: TimeRule = { importAt, maxDelay, clampAge, window: PLATFORM_WINDOW, futureTolerance, minTime, mode: mode as ClampMode, clock };
  if (problems.length === 0) problems.push(...ruleProblems(rule));
  if (problems.length > 0) {
    throw new BackfillError(
      'CONFIG_INVALID',
      problems.join('\n'),
      problems.every((p) => p.startsWith('shard'))
        ? 'Give --shard <i>/<N> with 0 ≤ i < N, or --shard auto on a batch engine (README "Shards" lists the variables it reads).'
        : `Run with --help for every option. Defaults: max-delay ${DEFAULTS.maxDelay}, clamp-age ${DEFAULTS.clampAge} (${(PLATFORM_WINDOW - 360 * DAY) / DAY}d of margin).`,
    );
  }
  return {
    inputs,
    outDir: raw.out,
    rule,
    importAtGiven: raw.importAt !== undefined,
    timeFormat,
    timeFormatText,
    zone,
    mapping: {
      map,
      params: parseParams(raw.param ?? []),
      countColumn: raw.countColumn,
      firstColumn: raw.firstColumn,
      lastColumn: raw.lastColumn,
      originalTimeParam: raw.originalTimeParam,
      dedupeKey: raw.dedupeKey,
    },
    maxCount,
    valueIsTotal: raw.valueIsTotal ?? false,
    dedupe: raw.dedupe ?? false,
    maxRejectRate,
    delimiter,
    sample,
    maxPartBytes,
    maxRecordBytes,
    order: order as 'user' | 'input',
    sortMemory,
    shard: typeof shard === 'object' ? shard : undefined,
    format,
    preset: raw.preset,
    paramsFrom,
    anonymous: raw.anonymous,
    sourceTz: raw.sourceTz,
    scanRecords,
    encoding: encoding ?? 'utf-8',
    users,
    canary,
    kind: isKind(kind) ? kind : 'events',
  };
}
