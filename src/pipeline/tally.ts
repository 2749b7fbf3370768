import type { KeptRow } from '../events/row.js';
import { DROP_REASONS, REJECT_REASONS, type DropReason, type RejectReason } from '../events/reasons.js';

const zeroed = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** The counts every run keeps, and the conservation laws over them. */
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
  clamped = 0;
  clampedRows = 0;
  nudged = 0;
  naiveRows = 0;
  expandedRows = 0;
  timeKinds: Record<string, number> = {};
  /** values holding , " or a line break, RFC 4180-quoted on output (LEANPLUM-API.md: the importer's escaping is unconfirmed) */
  readonly quoting = { quoted: 0 };

  onKept(row: KeptRow): void {
    this.read++;
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

  onWritten(n: number): void {
    this.written += n;
  }

  onRejected(reason: RejectReason): void {
    this.read++;
    this.rejected++;
    this.rejectedByReason[reason]++;
  }

  onDropped(reason: DropReason): void {
    this.read++;
    this.dropped++;
    this.droppedByReason[reason]++;
  }

  conservation(): { ok: boolean; rows: string; occurrences: string } {
    const rowsOk = this.read === this.kept + this.rejected + this.dropped;
    const occOk = this.written === this.occurrences;
    return {
      ok: rowsOk && occOk,
      rows: `read ${this.read} = kept ${this.kept} + rejected ${this.rejected} + dropped ${this.dropped}${rowsOk ? '' : '  MISMATCH'}`,
      occurrences: `written ${this.written} = occurrences of kept rows ${this.occurrences}${occOk ? '' : '  MISMATCH'}`,
    };
  }

  rejectRate(): number {
    return this.read === 0 ? 0 : this.rejected / this.read;
  }
}
