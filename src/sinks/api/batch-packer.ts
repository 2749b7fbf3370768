import { createHash } from 'node:crypto';
import { MULTI_MAX_ACTIONS, MULTI_MAX_USERS } from '../../leanplum/contract.js';

/**
 * How the API sink cuts the clean rows into JSON `multi` calls. Pure: no I/O, no clock.
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

/** A UUID-shaped (version 8, RFC 9562 "custom") name derived from a text: the same text, the same id. */
function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const runHex = new Map<string, string>();
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * The action's reqId: from the run, the row's source position (input unit and line, from
 * clean.lines) and its index in the clean output (one source line may give several rows: a count
 * column). Deterministic, so a resent batch carries the same reqIds (Leanplum's SDK dedupe key).
 * UUID-shaped (version 8): 48 bits naming the run (from its id's SHA-256), then the unit (12 bits),
 * the line (30 bits) and the index (32 bits) as they are, so a reqId in Leanplum's logs leads back
 * to its source line. Positions beyond those widths take a SHA-256 of all four instead.
 */
export function reqIdOf(runId: string, file: number, line: number, index: number): string {
  if (file > 0xfff || line >= 2 ** 30 || index >= 2 ** 32) return uuidOf(`lp-backfill/req/${runId}/${file}:${line}/${index}`);
  let r = runHex.get(runId);
  if (r === undefined) {
    r = createHash('sha256').update(`lp-backfill/run/${runId}`).digest('hex').slice(0, 12);
    runHex.set(runId, r);
  }
  return `${r.slice(0, 8)}-${r.slice(8, 12)}-8${hex(file, 3)}-${hex(0x8000 | (line >>> 16), 4)}-${hex(line & 0xffff, 4)}${hex(index, 8)}`;
}

/** The batch's uuid: from the run and the batch number. */
export const batchUuidOf = (runId: string, n: number): string => uuidOf(`lp-backfill/batch/${runId}/${n}`);
