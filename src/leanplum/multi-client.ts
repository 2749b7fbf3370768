import { API_VERSION, PERMANENT_MESSAGES, apiHostRedirect, errorMessageOf, firstResponse, matchMultiAnswer, type ActionResult } from './contract.js';
import { checkApiUrl, parseRetryAfter } from './client.js';
import { redact } from './redact.js';
import { DEFAULT_RETRY, retryDelay, type Failure, type RetryPolicy } from './retry.js';

export interface MultiClientOptions {
  apiUrl: string;
  appId: string;
  /** the app's Production key (JSON multi with track needs it: V) */
  clientKey: string;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** the clock for the body's `time` (ms since the epoch) */
  now?: () => number;
  retry?: RetryPolicy;
  /** per request */
  timeoutMs?: number;
  onRetry?: (attempt: number, delayMs: number, reason: string) => void;
  /** Leanplum named another host; the client follows it once, over https */
  onRedirect?: (from: string, to: string) => void;
}

/**
 * What became of one batch:
 * - answered: Leanplum answered every action (per-action outcomes, matched by reqId or position);
 * - refused: Leanplum said no to the whole call, nothing of it was applied (4xx; 429 or 408 until the
 *   retries ran out, with no attempt that may have gone through); `stop` when no later call can
 *   do better (403, the key, the app);
 * - unknown: the call may have been applied, but no usable answer came (the connection dropped
 *   after sending, a timeout, 5xx, an answer that does not fit the actions sent).
 */
export type MultiOutcome =
  | { kind: 'answered'; results: ActionResult[]; attempts: number; matchedBy: 'reqId' | 'index' }
  | { kind: 'refused'; status: number | undefined; message: string; stop: boolean; permanent: boolean; attempts: number }
  | { kind: 'unknown'; message: string; attempts: number };

type Attempt = DistributiveOmit<MultiOutcome, 'attempts'> | { kind: 'retry'; failure: Failure; message: string; mayHaveApplied: boolean };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Connection errors that happen before a byte of the request leaves. */
const NOT_SENT = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

const HOST_NAME = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * The JSON multi call: POST <api-url>?action=multi with the key in the body only, never in the
 * URL, and scrubbed from every message this returns. Retries (408, 429, 5xx, network errors) resend
 * the same actions (same uuid and reqIds, which Leanplum's SDKs rely on for server-side dedupe) with
 * a fresh top-level `time` (the send time, which Leanplum uses to correct clock skew: V).
 */
export class MultiClient {
  private url: URL;
  private redirected = false;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  /** attempts after the first, over all batches */
  retries = 0;
  requests = 0;

  constructor(private readonly o: MultiClientOptions) {
    this.url = checkApiUrl(o.apiUrl);
    this.url.searchParams.set('action', 'multi');
    this.fetch = o.fetch ?? globalThis.fetch;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
    this.now = o.now ?? Date.now;
    this.retry = o.retry ?? DEFAULT_RETRY;
  }

  get endpoint(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }

  private clean(text: string): string {
    return redact(text, this.o.clientKey);
  }

  /** The body around the batch's actions, already serialised (`data`: a JSON array). */
  private body(data: string): string {
    const head = JSON.stringify({ appId: this.o.appId, clientKey: this.o.clientKey, apiVersion: API_VERSION, time: Math.floor(this.now() / 1000) });
    return `${head.slice(0, -1)},"data":${data}}`;
  }

  /** Sends one batch (its actions as a JSON array) until it has an outcome. Never throws for HTTP. */
  async send(data: string, reqIds: readonly string[]): Promise<MultiOutcome> {
    let mayHaveApplied = false;
    for (let attempt = 1; ; attempt++) {
      const r = await this.attempt(data, reqIds);
      if (r.kind !== 'retry') {
        if (r.kind === 'refused' && mayHaveApplied) {
          return { kind: 'unknown', attempts: attempt, message: `${r.message}, after an earlier attempt that may have been applied` };
        }
        return { ...r, attempts: attempt };
      }
      if (r.mayHaveApplied) mayHaveApplied = true;
      const delay = retryDelay(attempt, r.failure, this.retry, this.random());
      if (delay === undefined) {
        const asked =
          r.failure.kind === 'status' && r.failure.retryAfterMs !== undefined ? ` (Leanplum asked to wait ${Math.ceil(r.failure.retryAfterMs / 1000)} s)` : '';
        const message = `${r.message}${asked}; gave up after ${attempt} attempt(s)`;
        if (mayHaveApplied) return { kind: 'unknown', attempts: attempt, message };
        return {
          kind: 'refused',
          status: r.failure.kind === 'status' ? r.failure.status : undefined,
          message,
          stop: true,
          permanent: false,
          attempts: attempt,
        };
      }
      this.retries++;
      this.o.onRetry?.(attempt, delay, r.message);
      await this.sleep(delay);
    }
  }

  private async attempt(data: string, reqIds: readonly string[]): Promise<Attempt> {
    this.requests++;
    let res: Response;
    try {
      res = await this.fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: this.body(data),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const notSent = NOT_SENT.has(cause?.code ?? '');
      const what = (e as Error).name === 'TimeoutError' ? 'timed out' : 'network error';
      return {
        kind: 'retry',
        failure: { kind: 'network' },
        message: this.clean(`${what}: ${cause?.code ?? cause?.message ?? (e as Error).message}`),
        mayHaveApplied: !notSent,
      };
    }
    let raw: string;
    try {
      raw = await res.text();
    } catch (e) {
      return {
        kind: 'retry',
        failure: { kind: 'network' },
        message: this.clean(`connection lost while reading the answer: ${(e as Error).message}`),
        mayHaveApplied: true,
      };
    }
    let json: unknown;
    let parsed = true;
    try {
      json = JSON.parse(raw);
    } catch {
      parsed = false;
    }
    const redirect = parsed ? apiHostRedirect(json) : undefined;
    if (redirect !== undefined) return this.follow(redirect, data, reqIds);
    if (res.ok) {
      if (!parsed) return { kind: 'unknown', message: this.clean(`HTTP ${res.status} with an answer that is not JSON: ${raw.slice(0, 200)}`) };
      const m = matchMultiAnswer(json, reqIds);
      if (!m.ok) return { kind: 'unknown', message: this.clean(`Leanplum's answer does not fit the batch: ${m.reason}`) };
      return { kind: 'answered', results: m.results.map((x) => this.cleanResult(x)), matchedBy: m.matchedBy };
    }
    let serverMessage: string | undefined;
    if (parsed) {
      try {
        serverMessage = errorMessageOf(firstResponse(json, raw));
      } catch {
        serverMessage = undefined;
      }
    }
    const message = this.clean(`HTTP ${res.status}${serverMessage ? `: ${serverMessage}` : ''}`);
    const permanent = serverMessage !== undefined && PERMANENT_MESSAGES.some((p) => serverMessage.startsWith(p));
    const status = res.status;
    if (!permanent && (status === 408 || status === 429 || status >= 500)) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.now());
      const failure: Failure = retryAfterMs === undefined ? { kind: 'status', status } : { kind: 'status', status, retryAfterMs };
      // a 5xx may come after the call was carried out; 408 and 429 mean it was not taken
      return { kind: 'retry', failure, message, mayHaveApplied: status >= 500 };
    }
    return { kind: 'refused', status, message, stop: true, permanent };
  }

  private cleanResult(r: ActionResult): ActionResult {
    return {
      success: r.success,
      warning: r.warning === undefined ? undefined : this.clean(r.warning),
      error: r.error === undefined ? undefined : this.clean(r.error),
    };
  }

  /** Another host for this app: followed once, only as https, and said so. */
  private async follow(to: { host: string; path: string | undefined }, data: string, reqIds: readonly string[]): Promise<Attempt> {
    const from = this.endpoint;
    if (this.redirected || !HOST_NAME.test(to.host)) {
      return {
        kind: 'refused',
        status: undefined,
        message: this.clean(
          this.redirected
            ? `Leanplum named another API host (${to.host}) again after one redirect; not followed`
            : `Leanplum named an API host that is not a host name: ${JSON.stringify(to.host).slice(0, 100)}`,
        ),
        stop: true,
        permanent: true,
      };
    }
    this.redirected = true;
    const path = to.path === undefined ? this.url.pathname : `/${to.path.replace(/^\/+/, '')}`;
    this.url = new URL(`https://${to.host}${path}?action=multi`);
    this.o.onRedirect?.(from, this.endpoint);
    return this.attempt(data, reqIds);
  }
}
