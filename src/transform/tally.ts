import type { KeptRow } from '../events/row.js';
import { DROP_REASONS, REJECT_REASONS, type DropReason, type RejectReason } from '../events/reasons.js';

const zeroed = <K extends string>(keys: readonly K[]): Record<K, number> => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/**
 * The counts every run keeps, and the conservation laws over them. The two sides of each law are
 * counted in different places, so a row lost between them shows up as a mismatch:
 * - `read`: records the reader handed over (headers excluded), counted by the reader;
 * - `kept`, `rejected`, `dropped`, `occurrences`: the row step's decisions;
 * - `written`: rows the clean CSV writer handed to its streams;
 * - `lineIndexEntries`: entries the line index writer handed to clean.lines.
 */
export class Tally {
  read = 0;
  kept = 0;
  rejected = 0;
  dropped = 0;
  rejectedByReason = zeroed(REJECT_REASONS);
  droppedByReason = zeroed(DROP_REASONS);
  /** occurrences of kept rows (dedupe drops whole rows, so a duplicate never counts here) */
  occurrences = 0;
  written = 0;
  lineIndexEntries = 0;
  /**
   * Kinds users and totals (one row per user): `users` the merge started, and `folded` the records
   * the fold put into the rows it wrote (totals: Σ count cells). Then written = clean.lines = users
   * and folded = occurrences of kept rows.
   */
  perUser: { users: number; folded: number } | undefined;
  clamped = 0;
  clampedRows = 0;
  nudged = 0;
  naiveRows = 0;
  expandedRows = 0;
  timeKinds: Record<string, number> = {};
  /** values holding , " or a line break, RFC 4180-quoted on output (LEANPLUM-API.md: the importer's escaping is unconfirmed) */
  readonly quoting = { quoted: 0 };

  /** rows the row step has decided on so far */
  get decided(): number {
    return this.kept + this.rejected + this.dropped;
  }

  onKept(row: KeptRow): void {
    this.kept++;
    const n = row.occurrences.length;
    this.occurrences += n;
    if (n > 1) this.expandedRows++;
    let clamped = 0;
    for (const o of row.occurrences) {
      if (o.change === 'clamped') clamped++;
      else if (o.change === 'nudged') this.nudged++;
    }
    if (clamped > 0) {
      this.clamped += clamped;
      this.clampedRows++;
    }
    if (row.naive) this.naiveRows++;
    this.timeKinds[row.timeKind] = (this.timeKinds[row.timeKind] ?? 0) + 1;
  }

  onRejected(reason: RejectReason): void {
    this.rejected++;
    this.rejectedByReason[reason]++;
  }

  onDropped(reason: DropReason): void {
    this.dropped++;
    this.droppedByReason[reason]++;
  }

  /** Both laws, each as one line that names the numbers that disagree. */
  conservation(): { ok: boolean; rows: string; occurrences: string } {
    const decided = this.decided;
    const rowsOk = this.read === decided;
    const rowsLine = `read ${this.read} = kept ${this.kept} + rejected ${this.rejected} + dropped ${this.dropped}${rowsOk ? '' : `  MISMATCH: read ${this.read} (reader) ≠ ${decided} decided (row step)`}`;
    if (this.perUser !== undefined) {
      const { users, folded } = this.perUser;
      const mismatch = [
        ...(this.written === users ? [] : [`written ${this.written} (clean CSV) ≠ users ${users} (merge)`]),
        ...(this.lineIndexEntries === users ? [] : [`clean.lines ${this.lineIndexEntries} (line index) ≠ users ${users} (merge)`]),
        ...(folded === this.occurrences ? [] : [`folded ${folded} (per-user rows) ≠ occurrences ${this.occurrences} (row step)`]),
      ];
      return {
        ok: rowsOk && mismatch.length === 0,
        rows: rowsLine,
        occurrences: `written ${this.written} = clean.lines ${this.lineIndexEntries} = users ${users}; folded into rows ${folded} = occurrences of kept rows ${this.occurrences}${mismatch.length === 0 ? '' : `  MISMATCH: ${mismatch.join(', ')}`}`,
      };
    }
    const writtenOk = this.written === this.occurrences;
    const linesOk = this.lineIndexEntries === this.occurrences;
    const occMismatch = [
      ...(writtenOk ? [] : [`written ${this.written} (clean CSV) ≠ occurrences ${this.occurrences} (row step)`]),
      ...(linesOk ? [] : [`clean.lines ${this.lineIndexEntries} (line index) ≠ occurrences ${this.occurrences} (row step)`]),
    ];
    return {
      ok: rowsOk && writtenOk && linesOk,
      rows: rowsLine,
      occurrences: `written ${this.written} = clean.lines ${this.lineIndexEntries} = occurrences of kept rows ${this.occurrences}${occMismatch.length === 0 ? '' : `  MISMATCH: ${occMismatch.join(', ')}`}`,
    };
  }

  rejectRate(): number {
    return this.read === 0 ? 0 : this.rejected / this.read;
  }
}
