import { createHash } from 'node:crypto';

/** This process's share of the users: shard `index` of `count` (0 ≤ index < count). */
export interface Shard {
  index: number;
  count: number;
}

/**
 * The shard a user belongs to, stable across runs, machines and versions (documented in the
 * README): the first 8 bytes of SHA-256 of the UTF-8 userId, read as a big-endian unsigned
 * 64-bit integer, modulo `count`.
 */
export function shardOf(userId: string, count: number): number {
  const digest = createHash('sha256').update(userId, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(count));
}

/** "i/N" → the shard, or a message saying what is wrong with it. */
export function parseShard(text: string): Shard | string {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) return `expected i/N (e.g. 0/4: the first of 4 shards) or auto, found "${text}"`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) return `the shard count must be a whole number ≥ 1, found "${text}"`;
  if (!Number.isSafeInteger(index) || index >= count) return `the shard index must be from 0 to ${count - 1} (0-based), found "${text}"`;
  return { index, count };
}

export const formatShard = (s: Shard): string => `${s.index}/${s.count}`;

/**
 * Decides shard membership row by row. A user's rows usually come many times, so answers are
 * cached (bounded: the cache starts over when full).
 */
export class ShardFilter {
  private readonly cache = new Map<string, boolean>();
  constructor(readonly shard: Shard) {}

  keeps(userId: string): boolean {
    let k = this.cache.get(userId);
    if (k === undefined) {
      k = this.shard.count === 1 || shardOf(userId, this.shard.count) === this.shard.index;
      if (this.cache.size >= 100_000) this.cache.clear();
      this.cache.set(userId, k);
    }
    return k;
  }
}
