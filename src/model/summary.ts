// The shape of summary.json, written by every transform. Types only. A change that a reader of
// schemaVersion 1 would misread bumps the version.

import type { ColumnSpec, Kind } from './kinds.js';
import type { UsersStats } from './user-record.js';

export interface InputFacts {
  name: string;
  bytes: number;
  sha256: string;
  /** CSV inputs; '' for the others */
  delimiter: string;
  /** what the first bytes said: csv, ndjson, json (an array), zip or parquet */
  format?: string;
  /** gs:// inputs: the object generation read (a resume requires the same) and its crc32c */
  generation?: string;
  crc32c?: string;
  /** zip inputs: the entries read, in order, and those left out (not .json/.jsonl/.csv[.gz]) */
  entries?: string[];
  skippedEntries?: string[];
  /** text inputs not read as UTF-8: the --encoding used, or "utf-16le (byte-order mark)" when the mark decided */
  encoding?: string;
}

export interface Conservation {
  ok: boolean;
  /** read = kept + rejected + dropped, as text with MISMATCH and the numbers when it fails */
  rows: string;
  /** written = clean.lines entries = occurrences of kept rows, likewise */
  occurrences: string;
}

/** The canary (issue 20): a few users in part 1, imported alone and first. */
export interface CanarySummary {
  /** the canary's part (clean-part-001.csv), null when there is no canary */
  part: string | null;
  users: number;
  /** rows written to the canary's part */
  rows: number;
  /** --canary as given; null: not given (the default: 100 users when more than 2,000) */
  requested: number | null;
  /** how users are chosen: the smallest hashes of the user id (FNV-1a 32 + murmur3 fmix32 of its UTF-8 bytes), not the alphabetically first */
  hash: string;
  /** why there is no canary, or why it holds fewer users than asked; null when it is as asked */
  note: string | null;
}

/** --kind totals: the rows per user, and the first/last times that are clamped times (imported at T − A). */
export interface TotalsStats {
  /** distinct event names: 4 columns each */
  eventNames: number;
  /** rows written: one per user */
  users: number;
  /** (user, event) pairs written: the non-empty groups of 4 cells */
  cells: number;
  /** occurrences per user: min, max, mean and a histogram (`upTo` inclusive; null: above the last bound) */
  occurrencesPerUser: { min: number; max: number; mean: number; buckets: { upTo: number | null; users: number }[] };
  /** firstTime / lastTime cells holding a clamped time (the event happened before the cutoff; old dates can flag users in Leanplum) */
  clampedFirstTimes: number;
  clampedLastTimes: number;
  /** users with at least one clamped occurrence */
  usersWithClampedTimes: number;
}

export interface TransformSummary {
  schemaVersion: 1;
  tool: { name: string; version: string };
  inputs: InputFacts[];
  /** n when only the first n rows were read (preview --sample) */
  sampled: number | null;
  config: {
    importAt: string;
    maxDelay: string;
    clampAge: string;
    clampMode: 'keep' | 'monotone';
    cutoff: string;
    clampTarget: string;
    staleAfter: string;
    futureTolerance: string;
    /** the real clock when the transform ran (null: not known, e.g. a library call without one) */
    clock: string | null;
    /** rows after this are rejected as future_time: the earlier of importAt and clock, plus futureTolerance */
    futureAfter: string;
    minTime: string;
    timeZone: string;
    timeFormat: string;
    /** Leanplum field → source column */
    mapping: Record<string, string>;
    params: string[];
    originalTimeParam: string | null;
    leftOutColumns: string[];
    dedupe: boolean;
    valueIsTotal: boolean;
    maxRejectRate: number;
    /** user: sorted by userId, time, source position; input: the order read */
    order: 'user' | 'input';
    /** "i/N" with --shard, else null */
    shard: string | null;
    sortMemoryBytes: number;
    /** --encoding (utf-8 unless given); an input whose byte-order mark decided says so in inputs[].encoding */
    encoding: string;
    /** --kind: events (track rows), users or totals (one setUserAttributes row per user); absent in older summaries: events */
    /** --kind users --clear-empty: empty values clear (the clean CSV's clearUserAttributes column; the CSV job refuses such a run) */
    clearEmpty?: boolean;
    kind: Kind;
  };
  /**
   * The clean CSV's columns with their types (model/kinds.ts), for the kinds that are not events:
   * the API sink rebuilds typed JSON values from them. null for events (the header is the mapping's).
   */
  columns: ColumnSpec[] | null;
  counts: {
    read: number;
    kept: number;
    rejected: number;
    rejectedByReason: Record<string, number>;
    dropped: number;
    droppedByReason: Record<string, number>;
    occurrences: number;
    written: number;
    lineIndexEntries: number;
    expandedRows: number;
    clamped: number;
    clampedRows: number;
    nudgedToImportTime: number;
    naiveTimeRows: number;
    timeFormats: Record<string, number>;
    valuesNeedingQuotes: number;
  };
  rejectRate: number;
  rejectRateExceeded: boolean;
  conservation: Conservation;
  outputs: {
    /** `canary`: the canary's part (only canary users; launched or sent alone, first) */
    clean: { file: string; rows: number; bytes: number; billableLookups: number; canary?: boolean }[];
    rejects: string;
    /** users whose rows alone exceed --max-part-bytes, split across parts (the exception to "a part never splits a user") */
    usersSplitAcrossParts: { count: number; sample: { user: string; firstPart: string; lastPart: string }[] };
    /** rows moved to the next part so a user that did not fit stays in one part */
    rowsMovedToKeepUsersTogether: number;
  };
  /**
   * Leanplum bills each unique user looked up in a batch of 50 rows (LEANPLUM-API.md); a batch
   * never spans parts. Exact counts of the file as written, and of the same rows in input order.
   */
  cost: {
    batchSize: number;
    order: 'user' | 'input';
    billableLookups: number;
    /**
     * null for the kinds of one row per user (users, totals): their rows exist only after the sort,
     * so no input order of them is counted. Older summaries of those kinds hold a number (0 for users,
     * the event rows' count for totals) that means nothing: read it only for kind events.
     */
    billableLookupsInInputOrder: number | null;
    /**
     * The API sink (`send`, `run --sink api`): Σ distinct users per JSON multi call, the calls packed
     * from the file as written exactly as `send` packs them (whole users, ≤ 50 users / 500 actions)
     */
    apiBillableLookups: number;
    /** --order user --dedupe: the input-order count includes the rows the sort then found to be duplicates */
    inputOrderCountedBeforeDedupe: boolean;
    /** distinct users written (exact with --order user; null in input order) */
    distinctUsers: number | null;
    /**
     * An event export's billable lookups as each kind that can be made of it, side by side (the user
     * chooses): `events` one row per occurrence (kind events: as written; kind totals: the same
     * occurrences sorted by user, parts split by size); `totals` one row per user, so its lookups
     * are the distinct users (null when not known: --order input). Absent for kind users.
     */
    byKind?: { events: number | null; totals: number | null };
  };
  /** the canary: its part, users and rows, or why there is none */
  canary: CanarySummary;
  /** --kind users: per attribute its type, fill rate, conflicts and samples; values left out (the report's "users" section) */
  users?: UsersStats;
  /** --kind totals: what the per-user rows hold (the report's "totals" section) */
  totals?: TotalsStats;
  /** the external sort (--order user), else null */
  sort: { memoryBytes: number; runs: number; bytesSpilled: number; extraMergePasses: number } | null;
  /** JSON and Parquet inputs: how records became rows (absent for CSV) */
  json?: {
    preset: string | null;
    /** records read ahead to find the parameter names of the header */
    scannedRecords: number;
    /** --anonymous, and the rows whose user id came from it */
    anonymous: string | null;
    anonymousUserRows: number;
    /** rows with more than 50 non-empty parameters, and the values left out of them (the first 50 in header order stay) */
    paramsOverLimit: { rows: number; values: number };
    /** values not written because the row already had that parameter name (an explicit --param wins; a key with dots equal to a nested path: the first stays) */
    paramsDuplicateValues: number;
    /** parameters not carried: a name Leanplum refuses, or first seen after the read-ahead; with the fix */
    paramsLeftOut: { name: string; rows: number; why: 'bad_name' | 'not_in_header'; message: string }[];
    paramsLeftOutOtherNames: number;
  };
}
