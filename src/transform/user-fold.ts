import type { KeptRow } from '../events/row.js';
import type { ColumnSpec } from '../model/kinds.js';

/**
 * The per-user fold at the sorted output: how the kinds that write ONE row per user (users,
 * totals; model/kinds.ts) turn the user-ordered stream into rows. These kinds require
 * --order user: the external sort hands the output side every record ordered by (userId, time,
 * source position), and TransformOutput calls the fold one user at a time:
 *
 *   columns()                       once, after the whole input was read, before the first user
 *   add(userId, time, payload) …    every record of one user, in (time, position) order
 *   end(userId)                     that user is complete: its CSV line; the fold forgets the user
 *
 * The fold holds one user's state, never a map of all users, so memory stays bounded whatever the
 * number of users (what it keeps across users — event names, attribute names and types — is
 * bounded by the kind's own limits).
 *
 * Records get into the sort in one of two ways:
 * - a kind folded from event rows (totals) gives `occurrencePayload`: every occurrence of a kept
 *   event row (after the row step, the shard filter and --dedupe, exactly as for events) is sorted
 *   with the text it returns;
 * - a kind with its own row step (users) calls `TransformOutput.addRecord(userId, time, payload,
 *   fileIndex, line)` for each record it keeps (and counts it in the tally as kept).
 * Either way, `payload` is opaque to the sort and to TransformOutput: only the fold reads it.
 *
 * clean.lines gets one entry per user row: where the user's first record (in sorted order) came from.
 */
export interface UserFold {
  /** events-based kinds: every kept event row as it is read (after the shard filter, before --dedupe) */
  seeRow?(row: KeptRow): void;
  /** after the whole input was read, before anything is written: may refuse (a BackfillError, exit 2) */
  endOfRead?(): void;
  /** events-based kinds (totals): the sort payload of occurrence `i` of a kept event row; may throw a BackfillError (exit 2) during the read */
  occurrencePayload?(row: KeptRow, i: number): string;
  /** the clean CSV's columns (userId first): the header, and summary.json `columns` */
  columns(): ColumnSpec[];
  /** one record of the current user, in (time, position) order */
  add(userId: string, time: number, payload: string): void;
  /** the current user is complete: its CSV line (cells in columns() order, RFC 4180, ending in '\n') */
  end(userId: string): string;
  /**
   * Records folded into written rows so far, counted by the fold from what it wrote (totals: Σ of
   * the count cells). The conservation check compares it with the records kept by the row step.
   */
  readonly folded: number;
  /** cells of the written rows that needed RFC 4180 quotes (summary.json counts.valuesNeedingQuotes) */
  readonly quoted?: number;
}
