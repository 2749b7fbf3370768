export type Failure = { kind: 'status'; status: number; retryAfterMs?: number } | { kind: 'network'; notSent?: boolean } | { kind: 'malformed' };

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** the longest Retry-After honoured; a server asking for more is given up on */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 2000, capMs: 30_000, maxRetryAfterMs: 300_000 };

/**
 * How long to wait before attempt `attempt + 1` (1-based), or undefined to give up. Only what is
 * safe to repeat comes here (status polls, result downloads). 429, 5xx and network errors are
 * retried with doubling, capped, jittered delays (Leanplum's guidance: about 2 s, 4 s, 8 s), and so is
 * 408 (the SDKs retry it);
 * a malformed answer gets two more chances; other 4xx never. A Retry-After on 429/503 is a floor.
 */
export function retryDelay(attempt: number, failure: Failure, policy: RetryPolicy, random: number): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  if (failure.kind === 'status' && failure.status !== 429 && failure.status !== 408 && failure.status < 500) return undefined;
  if (failure.kind === 'malformed' && attempt >= 3) return undefined;
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  // full jitter in the upper half keeps clients apart without ever retrying at once
  const backoff = Math.round(exp / 2 + (exp / 2) * random);
  // 429 and 503 may say when to come back (Retry-After): never sooner than that
  if (failure.kind === 'status' && (failure.status === 429 || failure.status === 503) && failure.retryAfterMs !== undefined) {
    if (failure.retryAfterMs > policy.maxRetryAfterMs) return undefined;
    return Math.max(backoff, failure.retryAfterMs);
  }
  return backoff;
}
