import { BackfillError } from '../errors.js';
import { API_VERSION, LeanplumProtocolError, PERMANENT_MESSAGES, errorMessageOf, firstResponse, parseLaunch, parseStatus, type JobStatus } from './contract.js';
import { checkApiUrl } from './api-url.js';
import { redact } from './redact.js';
import type { LeanplumAction } from '../model/kinds.js';
import { DEFAULT_RETRY, retryDelay, type Failure, type RetryPolicy } from './retry.js';

export { checkApiUrl, isLoopbackHost } from './api-url.js';

export interface LeanplumClientOptions {
  apiUrl: string;
  appId: string;
  /** the app's Development key (CSV imports require it) */
  clientKey: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  retry?: RetryPolicy;
  /** per request */
  timeoutMs?: number;
  /** called before each retry, for progress logs */
  onRetry?: (what: string, attempt: number, delayMs: number, reason: string) => void;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined if absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const t = header.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

const statusFailure = (status: number, retryAfterMs: number | undefined): Failure =>
  retryAfterMs === undefined ? { kind: 'status', status } : { kind: 'status', status, retryAfterMs };

/**
 * Connection errors that happen before a byte of the request leaves: the name did not resolve, or
 * nothing listens there. A launch that failed so certainly created no job.
 */
const NOT_SENT = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

class HttpFailure extends Error {
  constructor(
    readonly failure: Failure,
    message: string,
    readonly serverMessage?: string,
  ) {
    super(message);
  }
}

/**
 * The Leanplum HTTP client. Every call is a POST with form fields; the key is never put in a URL
 * and is scrubbed from every error before it leaves this module.
 */
export class LeanplumClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly retry: RetryPolicy;
  private readonly url: URL;

  constructor(private readonly o: LeanplumClientOptions) {
    this.url = checkApiUrl(o.apiUrl);
    this.fetch = o.fetch ?? globalThis.fetch;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
    this.retry = o.retry ?? DEFAULT_RETRY;
  }

  private clean(text: string): string {
    return redact(text, this.o.clientKey);
  }

  /** One POST; resolves to the parsed JSON and its raw text, or throws HttpFailure. */
  private async post(fields: Record<string, string>): Promise<{ json: unknown; raw: string; status: number }> {
    const body = new URLSearchParams({ appId: this.o.appId, clientKey: this.o.clientKey, apiVersion: API_VERSION, ...fields });
    let res: Response;
    try {
      res = await this.fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      // undici refuses some ports before connecting ("bad port"): nothing left either
      const notSent = NOT_SENT.has(cause?.code ?? '') || cause?.message === 'bad port';
      const failure: Failure = notSent ? { kind: 'network', notSent: true } : { kind: 'network' };
      throw new HttpFailure(
        failure,
        this.clean(`${(e as Error).name === 'TimeoutError' ? 'timed out' : 'network error'}: ${cause?.code ?? cause?.message ?? (e as Error).message}`),
      );
    }
    let raw: string;
    try {
      raw = await res.text();
    } catch (e) {
      throw new HttpFailure({ kind: 'network' }, this.clean(`connection lost while reading the answer: ${(e as Error).message}`));
    }
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      if (!res.ok) throw new HttpFailure(statusFailure(res.status, retryAfterMs), `HTTP ${res.status}`);
      throw new HttpFailure({ kind: 'malformed' }, this.clean(`HTTP ${res.status} with an answer that is not JSON: ${raw.slice(0, 200)}`));
    }
    if (!res.ok) {
      let msg: string | undefined;
      try {
        msg = errorMessageOf(firstResponse(json, raw));
      } catch {
        msg = undefined;
      }
      throw new HttpFailure(statusFailure(res.status, retryAfterMs), this.clean(`HTTP ${res.status}${msg ? `: ${msg}` : ''}`), msg && this.clean(msg));
    }
    return { json, raw, status: res.status };
  }

  private permanentHint(message: string | undefined): string | undefined {
    if (message === undefined) return undefined;
    if (message.startsWith('Invalid access key'))
      return "Check LEANPLUM_DEV_KEY (or --client-key-file): CSV imports need the app's Development key, not the Production one.";
    if (message.startsWith('App not found')) return 'Check --app-id.';
    if (message.startsWith('Development mode requested but not permitted')) return "Use the app's Development key.";
    return undefined;
  }

  /**
   * Launches the import job. Never retried: Leanplum has no idempotency key, so a second POST
   * could start a second job. A lost answer is reported as LAUNCH_UNKNOWN.
   */
  async launch(args: { bucket: string; file: string; defaultAction?: LeanplumAction }): Promise<{ jobId: string; warning: string | undefined }> {
    let r: { json: unknown; raw: string };
    try {
      // the action of every row of the file: track (events) or setUserAttributes (users, totals)
      const defaultAction = args.defaultAction ?? 'track';
      r = await this.post({ action: 'multi', createJob: 'true', defaultAction, gcsBucket: args.bucket, file: args.file });
    } catch (e) {
      if (!(e instanceof HttpFailure)) throw e;
      const f = e.failure;
      if (f.kind === 'network' && f.notSent === true) {
        throw new BackfillError(
          'LEANPLUM_FAILED',
          `could not reach Leanplum at ${this.url.origin} (${e.message}); nothing was sent, no job was created`,
          'Check --api-url and the network, then run the same command again.',
        );
      }
      if (f.kind === 'status' && f.status < 500) {
        throw new BackfillError(
          'LEANPLUM_FAILED',
          `Leanplum refused the launch (${e.message}); no job was created`,
          this.permanentHint(e.serverMessage) ??
            (f.status === 429
              ? `Rate limited: wait ${f.retryAfterMs !== undefined ? `${Math.ceil(f.retryAfterMs / 1000)}s (Leanplum's Retry-After)` : 'a minute'} and run again.`
              : undefined),
        );
      }
      throw new BackfillError(
        'LAUNCH_UNKNOWN',
        `the launch request got no usable answer (${e.message}): Leanplum may or may not have created a job`,
        "Do not launch again blindly: check the app's import jobs in Leanplum (or ask support) first.",
      );
    }
    try {
      const launched = parseLaunch(r.json, r.raw);
      return { jobId: launched.jobId, warning: launched.warning === undefined ? undefined : this.clean(launched.warning) };
    } catch (e) {
      if (e instanceof LeanplumProtocolError) {
        const msg = this.clean(e.message);
        const permanent = PERMANENT_MESSAGES.some((p) => msg.includes(p));
        if (permanent || msg.startsWith('launch refused'))
          throw new BackfillError('LEANPLUM_FAILED', `Leanplum refused the launch: ${msg}`, this.permanentHint(msg.replace(/^launch refused: /, '')));
        throw new BackfillError(
          'LAUNCH_UNKNOWN',
          `Leanplum's launch answer was not understood (${msg}; body: ${this.clean(e.body)})`,
          'A job may exist. Check in Leanplum before using --relaunch.',
        );
      }
      throw e;
    }
  }

  private async withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        let failure: Failure;
        let message: string;
        if (e instanceof HttpFailure) [failure, message] = [e.failure, e.message];
        else if (e instanceof LeanplumProtocolError) [failure, message] = [{ kind: 'malformed' }, this.clean(`${e.message}: ${e.body}`)];
        else throw e;
        const delay = retryDelay(attempt, failure, this.retry, this.random());
        if (delay === undefined) {
          const serverMessage = e instanceof HttpFailure ? e.serverMessage : undefined;
          const asked =
            failure.kind === 'status' && failure.retryAfterMs !== undefined
              ? ` (Leanplum asked to wait ${Math.ceil(failure.retryAfterMs / 1000)} s before retrying)`
              : '';
          throw new BackfillError(
            'LEANPLUM_FAILED',
            `${what} failed after ${attempt} attempt(s): ${message}${asked}`,
            this.permanentHint(serverMessage) ?? 'Run `lp-backfill wait <dir>` again later; the job itself is not affected.',
          );
        }
        this.o.onRetry?.(what, attempt, delay, message);
        await this.sleep(delay);
      }
    }
  }

  /** getMultiResults: safe to repeat, so retried. */
  status(jobId: string): Promise<JobStatus> {
    return this.withRetry('getMultiResults', async () => {
      const r = await this.post({ action: 'getMultiResults', jobId });
      const st = parseStatus(r.json, r.raw);
      // a FAILED job's message arrives in a 200 answer: it is scrubbed like any error before it is stored or shown
      if (st.error !== undefined) st.error = this.clean(st.error);
      return st;
    });
  }

  /** A results file (JSON Lines). The URL comes from Leanplum; no key is sent with it. */
  fetchResults(url: string): Promise<string> {
    return this.withRetry('results download', async () => {
      let res: Response;
      try {
        res = await this.fetch(url, { signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000) });
      } catch (e) {
        throw new HttpFailure({ kind: 'network' }, this.clean(`network error: ${(e as Error).message}`));
      }
      if (!res.ok) throw new HttpFailure({ kind: 'status', status: res.status }, `HTTP ${res.status} for the results file`);
      try {
        return this.clean(await res.text());
      } catch (e) {
        throw new HttpFailure({ kind: 'network' }, `connection lost while reading the results file: ${(e as Error).message}`);
      }
    });
  }
}
