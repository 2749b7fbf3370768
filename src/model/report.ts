// The shape of report.json (documented in the README and docs/report.md). Types only. A change
// that a reader of the previous schemaVersion would misread bumps the version. Besides the types,
// only the limits of an example row (the transform keeps no more of a row waiting in the dedupe sort).
// 2: valueByCurrency holds exact decimal strings (was rounded numbers); histogram.older/newer.
import type { UsersStats } from './user-record.js';
import type { ResultsSummary } from './results.js';
import type { Kind } from './kinds.js';
import type { TotalsStats } from './summary.js';
import type { Conservation, InputFacts } from './summary.js';

export interface HistogramBucket {
  start: string;
  input: number;
  output: number;
}
/** Events before the first bar, counted in the chart's first ("older") bar. */
export interface HistogramOlder {
  /** the first regular bar's start (YYYY-MM or YYYY-MM-DD): these events are all before it */
  before: string;
  /** the day (YYYY-MM-DD) of the earliest of them */
  earliest: string;
  input: number;
  output: number;
}
/** Events after the last bar, counted in the chart's last ("newer") bar. */
export interface HistogramNewer {
  /** the last regular bar's start (YYYY-MM or YYYY-MM-DD): these events are all after that bucket */
  after: string;
  latest: string;
  input: number;
  output: number;
}
export interface Warning {
  code: string;
  message: string;
}
/** An example row shows at most this many of the row's fields… */
export const EXAMPLE_FIELDS = 30;
/** …each cut to this many characters, followed by '…' when it was longer. */
export const EXAMPLE_FIELD_CHARS = 200;
export interface ExampleRow {
  file: string;
  line: number;
  message: string;
  /** the row's first EXAMPLE_FIELDS fields, each cut at EXAMPLE_FIELD_CHARS characters (then '…') */
  values: string[];
}
export interface ReasonRows {
  reason: string;
  count: number;
  rows: ExampleRow[];
}

export interface ReportResults {
  jobs: ResultsSummary[];
  exposure: { part: string; since: string; until: string | null; exposedSeconds: number | null }[];
}

/** The canary (issue 20) as the report shows it; `outcome` once it was imported and judged. */
export interface ReportCanary {
  part: string | null;
  users: number;
  rows: number;
  /** why there is none, or why it holds fewer users than asked */
  note: string | null;
  outcome?: CanaryOutcome;
}

/** How the canary ended: passed (the rest was imported after it) or stopped (nothing else was sent). */
export interface CanaryOutcome {
  verdict: 'passed' | 'stopped';
  failedRows: number;
  pastEventWarnings: number;
  /** --canary-max-failures in force */
  maxFailures: number;
  at: string;
}

export interface Report {
  schemaVersion: 2;
  generatedAt: string;
  tool: { name: string; version: string };
  run: {
    inputs: InputFacts[];
    sampled: number | null;
    importAt: string;
    cutoff: string;
    clampTarget: string;
    maxDelay: string;
    clampAge: string;
    clampMode: 'keep' | 'monotone';
    launchBefore: string;
    timeZone: string;
    timeFormat: string;
    mapping: Record<string, string>;
    params: string[];
    leftOutColumns: string[];
  };
  totals: {
    read: number;
    kept: number;
    rejected: number;
    dropped: number;
    occurrences: number;
    written: number;
    expandedRows: number;
    clamped: number;
    clampedRows: number;
    nudgedToImportTime: number;
  };
  conservation: Conservation;
  clamped: {
    occurrences: number;
    rows: number;
    byEvent: Record<string, number>;
    sample: { file: string; line: number; userId: string; event: string; originalTime: string; newTime: string }[];
  };
  rejected: { total: number; sourceHeader: string[]; byReason: ReasonRows[] };
  dropped: { total: number; byReason: ReasonRows[] };
  histogram: {
    unit: 'day' | 'month';
    /** the regular bars, oldest first; with older and newer they hold every event exactly once */
    buckets: HistogramBucket[];
    /** events far before the rest (see docs/report.md), or null when none */
    older: HistogramOlder | null;
    newer: HistogramNewer | null;
    markers: { cutoff: string; clampTarget: string; analytics7d: string; importAt: string };
  };
  events: {
    event: string;
    occurrences: number;
    clamped: number;
    clampedShare: number;
    olderThan7dShare: number;
    /** currency (or "(no currency)") → the exact sum of the values written, as a decimal string ("10000.00") */
    valueByCurrency: Record<string, string>;
  }[];
  otherEventsOccurrences: number;
  /**
   * Leanplum bills each unique user looked up in a batch of 50 rows; a batch never spans parts.
   * Exact counts of the file as written and of the same rows in input order, from the same pass.
   */
  cost: {
    batchSize: number;
    /** the order the file was written in */
    order: 'user' | 'input';
    billableLookupsAsWritten: number;
    /** null for users and totals (one row per user: not counted), as in summary.json */
    billableLookupsInInputOrder: number | null;
    /**
     * The API sink (`send`, `run --sink api`): Σ distinct users per JSON multi call, the calls packed
     * from the file as written as `send` packs them (whole users, ≤ 50 users / 500 actions)
     */
    apiBillableLookups: number;
    /** --order user --dedupe: the input-order count includes rows the sort found to be duplicates */
    inputOrderCountedBeforeDedupe: boolean;
    byPart: { part: string; rows: number; billableLookups: number }[];
    /** exact with --order user, else null */
    distinctUsers: number | null;
    /** a distinct-count sketch over the kept rows (≈ ±2%) */
    distinctUsersEstimate: number;
    /** no order can cost less: max(distinct users, rows / 50) (from the exact count when known) */
    lowerBoundIfGroupedByUser: number;
    /** users whose rows alone exceed a part and were split across parts */
    usersSplitAcrossParts: number;
    /**
     * An event export's billable lookups as `--kind events` and as `--kind totals` (one row per
     * user), side by side; `totalsEstimated`: in input order the distinct users are the sketch's
     * estimate. Absent for --kind users.
     */
    byKind?: { events: number | null; totals: number | null; totalsEstimated: boolean };
  };
  /** --kind totals: occurrences per user and the first/last times that are clamped (summary.json `totals`) */
  perUserTotals?: TotalsStats;
  /** --kind users: per attribute its type, fill rate, type conflicts and samples; values left out (summary.json `users`) */
  users?: UsersStats;
  /** --kind (events when absent: a report written before it existed) */
  kind?: Kind;
  warnings: Warning[];
  /** the canary's part, users and rows (absent in reports written before it existed) */
  canary?: ReportCanary;
  /** added once the import job(s) have ended */
  results?: ReportResults;
}
