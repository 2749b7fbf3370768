// The canary (issue 20): a few users imported first, alone, so that a wrong mapping shows itself
// on them and not after the whole import. Pure: which users, chosen how, and when there is one.

/** Default canary size, when the run has more than CANARY_MIN_USERS distinct users. */
export const CANARY_DEFAULT_USERS = 100;
/** A run with at most this many distinct users has no canary unless --canary N asks for one. */
export const CANARY_MIN_USERS = 2000;
/** How the users are chosen, as summary.json says it. */
export const CANARY_HASH = 'fnv1a32+fmix32 of the UTF-8 user id';

/**
 * FNV-1a (32 bits) of the user id's UTF-8 bytes, then murmur3's 32-bit finaliser: stable across runs, machines and versions, and
 * cheap enough to compute for every row. Not the alphabetically first users: ids that share a
 * prefix (test accounts, one signup day) would all be picked together.
 */
export function userHash(id: string): number {
  let h = 0x811c9dc5;
  const n = id.length;
  for (let i = 0; i < n; i++) {
    let c = id.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = id.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    // a lone surrogate is written as U+FFFD, as Buffer.from(id) writes it
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    const bytes =
      c < 0x800
        ? [0xc0 | (c >> 6), 0x80 | (c & 0x3f)]
        : c < 0x10000
          ? [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]
          : [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)];
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  }
  // FNV-1a mixes its last bytes poorly ("u1" … "u9" land close together): murmur3's finaliser spreads them
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: every input bit reaches every output bit (unsigned result). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The order the canary is chosen in: hash, then the id's UTF-8 bytes (two ids with one hash). Negative: a first. */
export function canaryOrder(ha: number, a: string, hb: number, b: string): number {
  if (ha !== hb) return ha - hb;
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

interface Entry {
  hash: number;
  user: string;
  rows: number;
  bytes: number;
}

/** One canary user, with the rows and bytes it writes. */
export interface CanaryUser {
  user: string;
  hash: number;
  rows: number;
  bytes: number;
}

/**
 * Keeps, while the rows stream by, the `keep` distinct users with the smallest (hash, id), and the
 * rows and bytes each of them writes: a bounded max-heap plus a map, so memory does not grow with
 * the input. A user that ends among the smallest was among them from its first row on (the
 * heap's largest only goes down), so its counts are exact.
 */
export class CanaryPicker {
  private readonly heap: Entry[] = [];
  private readonly byUser = new Map<string, Entry>();
  private lastUser: string | undefined;
  private lastEntry: Entry | undefined;

  constructor(readonly keep: number) {}

  /** One written row (occurrence) of `user`, `bytes` long. */
  row(user: string, bytes: number): void {
    if (user === this.lastUser) {
      if (this.lastEntry !== undefined) {
        this.lastEntry.rows++;
        this.lastEntry.bytes += bytes;
      }
      return;
    }
    this.lastUser = user;
    this.lastEntry = undefined;
    if (this.keep === 0) return;
    const known = this.byUser.get(user);
    if (known !== undefined) {
      known.rows++;
      known.bytes += bytes;
      this.lastEntry = known;
      return;
    }
    const hash = userHash(user);
    const heap = this.heap;
    if (heap.length === this.keep) {
      const top = heap[0]!;
      if (canaryOrder(hash, user, top.hash, top.user) >= 0) return;
      this.byUser.delete(top.user);
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        this.down(0);
      }
    }
    const e: Entry = { hash, user, rows: 1, bytes };
    heap.push(e);
    this.up(heap.length - 1);
    this.byUser.set(user, e);
    this.lastEntry = e;
  }

  /** Distinct users seen, if at most `keep` (else at least `keep`). */
  get size(): number {
    return this.heap.length;
  }

  /** The users kept, smallest (hash, id) first. */
  smallest(): CanaryUser[] {
    return [...this.heap].sort((a, b) => canaryOrder(a.hash, a.user, b.hash, b.user)).map((e) => ({ ...e }));
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return canaryOrder(a.hash, a.user, b.hash, b.user) > 0; // a max-heap: the largest on top
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) return;
      const r = l + 1;
      const m = r < h.length && this.less(r, l) ? r : l;
      if (!this.less(m, i)) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

/** What the transform decided about the canary: its users, or why there is none. */
export interface CanaryChoice {
  users: CanaryUser[];
  /** --canary as given (null: not given, the default applies) */
  requested: number | null;
  /** why there is no canary, or why it holds fewer users than asked; undefined when it is as asked */
  note: string | undefined;
}

/**
 * The canary from what the picker kept. `requested` undefined: the default (CANARY_DEFAULT_USERS
 * when more than CANARY_MIN_USERS users). Its rows must fit in one part (`room` bytes after the
 * header): users are taken in hash order while they fit. A canary that would hold every user is
 * none (the run would only wait longer).
 */
export function chooseCanary(picked: readonly CanaryUser[], distinctAtLeast: number, requested: number | undefined, room: number): CanaryChoice {
  const req = requested ?? null;
  const none = (note: string): CanaryChoice => ({ users: [], requested: req, note });
  if (requested === 0) return none('--canary 0: no canary');
  if (requested === undefined && distinctAtLeast <= CANARY_MIN_USERS)
    return none(`${distinctAtLeast} users (${CANARY_MIN_USERS} or fewer): no canary by default; --canary <N> asks for one`);
  const n = requested ?? CANARY_DEFAULT_USERS;
  if (n >= distinctAtLeast) return none(`--canary ${n} would hold every one of the ${distinctAtLeast} users: no canary`);
  const users: CanaryUser[] = [];
  let bytes = 0;
  for (const u of picked.slice(0, n)) {
    if (bytes + u.bytes > room) break;
    users.push(u);
    bytes += u.bytes;
  }
  if (users.length === 0) return none(`the first canary user's rows alone (${picked[0]?.bytes ?? 0} bytes) exceed --max-part-bytes: no canary`);
  if (users.length < n)
    return { users, requested: req, note: `${users.length} of ${n} users: the canary is one part, and more users' rows exceed --max-part-bytes` };
  return { users, requested: req, note: undefined };
}
