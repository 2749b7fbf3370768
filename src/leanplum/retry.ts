export type Failure = { kind: 'status'; status: number } | { kind: 'network' } | { kind: 'malformed' };

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 2000, capMs: 30_000 };

/**
 * How long to wait before attempt `attempt + 1` (1-based), or undefined to give up. Only what is
 * safe to repeat comes here (status polls, result downloads). 429, 5xx and network errors are
 * retried with doubling, capped, jittered delays (Leanplum's guidance: about 2 s, 4 s, 8 s);
 * a malformed answer gets two more chances; other 4xx never.
 */
export function retryDelay(attempt: number, failure: Failure, policy: RetryPolicy, random: number): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  if (failure.kind === 'status' && failure.status !== 429 && failure.status < 500) return undefined;
  if (failure.kind === 'malformed' && attempt >= 3) return undefined;
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  // full jitter in the upper half keeps clients apart without ever retrying at once
  return Math.round(exp / 2 + (exp / 2) * random);
}
