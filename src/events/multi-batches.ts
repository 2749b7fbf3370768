import { MULTI_MAX_ACTIONS, MULTI_MAX_USERS } from '../leanplum/contract.js';

/**
 * How the API sink cuts the clean rows into JSON `multi` calls. Pure: no I/O, no clock. Here (not
 * in sinks/api) because the transform counts the API's billable lookups with it as it writes.
 *
 * Rows come in the order of the clean output (grouped by user with --order user). Consecutive rows
 * of one user form a group. Whole groups are packed into a batch until the next would take it past
 * MULTI_MAX_USERS distinct users or MULTI_MAX_ACTIONS actions, then the batch is closed. A group
 * larger than MULTI_MAX_ACTIONS cannot fit any call: it starts a batch of its own, fills as many
 * full batches as it needs, and its remainder opens the next batch (which later users may join).
 * Those batches carry `continues` (they share a user with the batch before): the send stage never
 * has them in flight together — nor any two batches that share a user (input order may repeat one).
 *
 * Billable lookups (LEANPLUM-API.md: each unique user in a call is one) = Σ `users` over batches.
 */
export interface Batch {
  /** 0-based, in row order */
  n: number;
  /** global index of the batch's first clean row (the order of clean.lines) */
  first: number;
  /** number of rows (actions), 1..MULTI_MAX_ACTIONS */
  rows: number;
  /** distinct users, 1..MULTI_MAX_USERS: the batch's billable lookups */
  users: number;
  /** the batch shares a user with the batch before (a group larger than one call, or a user repeated in input order) */
  continues: boolean;
}

export interface PackerLimits {
  users: number;
  actions: number;
}

export const MULTI_LIMITS: PackerLimits = { users: MULTI_MAX_USERS, actions: MULTI_MAX_ACTIONS };

/**
 * Streams rows in, batches out. `rows(user, n)` takes n consecutive rows of one user (repeated
 * calls for the same user extend its group); every batch that can be decided is handed to `emit`
 * in order. Holds at most one open batch's users and one pending group: constant memory.
 */
export class BatchPacker {
  /** Σ users over the batches emitted */
  billable = 0;
  batches = 0;
  rowsSeen = 0;
  private openFirst = 0;
  private openRows = 0;
  private openUsers = new Set<string>();
  private prevUsers = new Set<string>();
  private pendingUser: string | undefined;
  private pendingRows = 0;
  private pendingBig = false;

  constructor(
    private readonly emit: (b: Batch) => void = () => undefined,
    private readonly limits: PackerLimits = MULTI_LIMITS,
  ) {}

  rows(user: string, n = 1): void {
    if (n <= 0) return;
    if (user !== this.pendingUser) this.endGroup(user);
    this.pendingRows += n;
    this.rowsSeen += n;
    const max = this.limits.actions;
    if (this.pendingRows > max) {
      // a group no call can hold: the open batch closes without it, then full calls of this user
      if (!this.pendingBig) {
        this.close();
        this.pendingBig = true;
      }
      while (this.pendingRows > max) {
        this.openFirst = this.rowsSeen - this.pendingRows;
        this.openRows = max;
        this.openUsers.add(user);
        this.close();
        this.pendingRows -= max;
      }
    }
  }

  /** The pending group is complete: into the open batch, or a new one. */
  private endGroup(next: string | undefined): void {
    const user = this.pendingUser;
    const k = this.pendingRows;
    this.pendingUser = next;
    this.pendingRows = 0;
    const big = this.pendingBig;
    this.pendingBig = false;
    if (user === undefined || k === 0) return;
    const start = this.rowsSeen - k;
    if (big) {
      // the remainder of a large group: a batch of its own, continuing the previous one
      this.openFirst = start;
      this.openRows = k;
      this.openUsers.add(user);
      return;
    }
    const known = this.openUsers.has(user);
    const fits = this.openRows + k <= this.limits.actions && (known || this.openUsers.size < this.limits.users);
    if (!fits) this.close();
    if (this.openRows === 0) this.openFirst = start;
    this.openRows += k;
    this.openUsers.add(user);
  }

  private close(): void {
    if (this.openRows > 0) {
      const users = this.openUsers.size;
      let continues = false;
      for (const u of this.openUsers) if (this.prevUsers.has(u)) continues = true;
      this.billable += users;
      this.emit({ n: this.batches++, first: this.openFirst, rows: this.openRows, users, continues });
      [this.prevUsers, this.openUsers] = [this.openUsers, this.prevUsers];
    }
    this.openRows = 0;
    this.openUsers.clear();
  }

  /** No more rows: the last group and batch are emitted. */
  end(): void {
    this.endGroup(undefined);
    this.close();
  }
}

/** All batches of a row sequence given as the userId of each row (tests, small inputs). */
export function packRows(users: readonly string[], limits: PackerLimits = MULTI_LIMITS): Batch[] {
  const out: Batch[] = [];
  const p = new BatchPacker((b) => out.push(b), limits);
  for (const u of users) p.rows(u);
  p.end();
  return out;
}

/**
 * The send order's one rule about users: a batch may start while `inFlight` holds batches only if
 * none of them shares a user with it. Pure; the send stage and the tests use the same function.
 */
export function mayStart(users: ReadonlySet<string>, inFlight: Iterable<ReadonlySet<string>>): boolean {
  for (const other of inFlight) for (const u of users) if (other.has(u)) return false;
  return true;
}
