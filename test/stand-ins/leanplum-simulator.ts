import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'csv-parse/sync';
import { FaultQueue, LoopbackService, faultHeaders, readBody, sendJson, type Fault } from './http-util.js';
import {
  type Action,
  JsonMulti,
  PARAMS_PER_EVENT_MAX,
  USER_ID_MAX_CHARS,
  type UserState,
  applySetUserAttributes,
  badName,
  chars,
  checkSetUserAttributes,
  type MultiOptions,
  type RecordMode,
} from './leanplum-simulator-multi.js';

/**
 * A local Leanplum that holds the contract in shared/LEANPLUM-API.md: checks the app and the key
 * class, reads the CSV from the GCS stand-in with its own permissions, moves a job
 * PENDING → RUNNING → FINISHED/FAILED, validates every row and answers with JSON-Lines results,
 * including "Past event detected" for rows older than 365 days at its own processing time.
 * JSON `multi` (the API sink's path) lives in leanplum-simulator-multi.ts, with its rules (what is
 * documented and what is assumed) at the top of that file; `sim.multi` holds what it applied and its
 * counters. Faults can be injected over HTTP or with the methods below.
 *
 * CSV jobs with `defaultAction=setUserAttributes` (user data and aggregated events; LEANPLUM-API.md
 * "setUserAttributes", VENDOR-PROFILES.md §0):
 * - V: `userId` must be the first column; columns are API argument names, a dot nests
 *   (`userAttributes.Gender`); `created` and `lastActive` are UNIX seconds; lists are written in
 *   brackets in one cell (`[Jimmy, Sara, Amy]`); the fields `locale, country, region, city,
 *   timezone`; aggregated events (count, first and last occurrence, value) go through
 *   setUserAttributes; the file is processed in batches of 50 rows, each unique user in a batch one
 *   billable lookup; the name rules of events (and here, assumed, of attributes).
 * - U: the columns `events.<name>.count|firstTime|lastTime|value` (the dot rule, not shown by
 *   Leanplum); an empty cell means "not sent" (never clears); a header column the stand-in does not
 *   know, a repeated column or a `.` inside an attribute name (it would nest) fails the whole job;
 *   how a cell is typed: `true`/`false` → boolean, a JSON number literal → number, `[…]` → a list
 *   of items split on `,` and trimmed (each typed the same way), anything else the text;
 *   `created`/`lastActive` whole seconds; count a whole number ≥ 0; firstTime ≤ lastTime; the
 *   aggregates SET what the user has (see leanplum-simulator-multi.ts). Per-row failures come back
 *   in the results file like the track path's. Applied rows go to `sim.users` (the same store the
 *   JSON multi call writes; over HTTP GET /_sim/users).
 */
export interface SimulatorOptions {
  apps: Record<string, { devKey: string; prodKey: string }>;
  /** base URL of the GCS (stand-in) that objects are read from: <gcsUrl>/<bucket>/<object>; without it CSV jobs FAIL */
  gcsUrl?: string;
  /** bearer token Leanplum's account presents when reading objects (granted per bucket) */
  readerToken?: string;
  /** time between job state changes */
  stepMs?: number;
  /** Leanplum's processing clock = real clock + this (to simulate a late job) */
  clockOffsetSeconds?: number;
  /** error answers quote the clientKey they received, as a careless server might (for tests of the tool's key scrubbing) */
  echoKey?: boolean;
  host?: string;
  port?: number;
  /** JSON multi settings (record mode, added latency, reqId echo) */
  multi?: MultiOptions;
}

export interface SimJob {
  id: string;
  appId: string;
  bucket: string;
  file: string;
  state: 'PENDING' | 'RUNNING' | 'FINISHED' | 'FAILED';
  defaultAction: 'track' | 'setUserAttributes';
  /** Σ unique users per 50-row batch of the file (V: what Leanplum bills), when processed */
  billableLookups?: number;
  createdAt: string;
  error?: string;
  successes?: number;
  failures?: number;
  files?: string[];
  statusRequests: number;
  /** Date.now() when the job reached FINISHED or FAILED (a canary test orders launches by it) */
  endedAt?: number;
}

/** the fault-queue key of a JSON multi call is "POST /api multi json" */
const MULTI_MATCH = 'multi json';

export interface MultiConfig {
  /** forget what was applied and the counters */
  reset?: boolean;
  latencyMs?: number;
  echoReqId?: boolean;
  /** answers in reverse request order (matched by the echoed reqId only) */
  reorderAnswers?: boolean;
  record?: RecordMode;
  /** actions with these event names fail with "Event rejected: <name>" (a bad row for a canary), in JSON multi and in CSV jobs; [] clears */
  failEvents?: string[];
  throttle?: { times: number; retryAfterSeconds?: number };
  unavailable?: number;
  loseAnswers?: number;
  slow?: { times: number; delayMs: number };
}

const DAY = 86_400;
const YEAR_WINDOW = 365 * DAY;

const answer = (res: ServerResponse, status: number, r: Record<string, unknown>, headers: Record<string, string> = {}) =>
  sendJson(res, status, { response: [r] }, headers);

export class LeanplumSimulator extends LoopbackService {
  readonly jobs = new Map<string, SimJob>();
  private results = new Map<string, string[]>();
  readonly faults = new FaultQueue();
  stuckPending = false;
  echoKey: boolean;
  /** the clientKey each API request carried, so any error answer to it can quote it in echo mode */
  private keyOf = new WeakMap<ServerResponse, string>();
  /** every API call as received (before any injected fault), without its key */
  readonly requests: { action: string; at: number }[] = [];
  /** the JSON multi call: what it applied, its counters and settings */
  readonly multi: JsonMulti;

  constructor(private readonly o: SimulatorOptions) {
    super();
    this.echoKey = o.echoKey ?? false;
    this.multi = new JsonMulti(o.multi);
  }

  /** The next `times` JSON multi calls are answered 429 with `Retry-After: <seconds>`; nothing applied. */
  throttleMulti(times: number, retryAfterSeconds = 1): void {
    this.faults.add({ match: MULTI_MATCH, kind: 'status', status: 429, retryAfterSeconds, times });
  }

  /** The next `times` JSON multi calls are answered 503; nothing applied. */
  unavailableMulti(times: number): void {
    this.faults.add({ match: MULTI_MATCH, kind: 'status', status: 503, times });
  }

  /** The next `times` JSON multi calls take `delayMs` longer (inside their user lock). */
  slowMulti(times: number, delayMs: number): void {
    this.faults.add({ match: MULTI_MATCH, kind: 'slow', delayMs, times });
  }

  /** The next `times` JSON multi calls are applied, then the connection is cut before the answer. */
  loseMultiAnswers(times: number): void {
    this.faults.add({ match: MULTI_MATCH, kind: 'drop-after', times });
  }

  /** The next `times` JSON multi calls are cut before anything is applied. */
  dropMulti(times: number): void {
    this.faults.add({ match: MULTI_MATCH, kind: 'drop', times });
  }

  start(): Promise<string> {
    // Node closes an idle keep-alive connection after 5 s, about when the client may reuse it: on a
    // loaded machine a launch POST then met a reset socket (LAUNCH_UNKNOWN) now and then. Leanplum's
    // servers keep idle connections longer; so does the stand-in. (Not the GCS stand-in: its
    // dropped-connection resume test needs Node's default.)
    this.keepAliveMs = 60_000;
    return this.listen(this.o.port, this.o.host);
  }

  protected internalError(res: ServerResponse, e: Error): void {
    this.fail(res, 500, `simulator: ${e.message}`);
  }

  /** An error answer; in echo mode it quotes the request's key the way a careless server would. */
  private fail(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    answer(res, status, { success: false, error: { message: this.quoteKey(res, message) } }, headers);
  }

  private quoteKey(res: ServerResponse, message: string): string {
    const key = this.keyOf.get(res);
    if (!this.echoKey || !key) return message;
    // keep the documented prefixes intact: clients classify permanent failures by them
    if (message.startsWith('Invalid access key')) return `Invalid access key "${key}"${message.slice('Invalid access key'.length)}`;
    if (message.startsWith('App not found')) return `${message} (key ${key})`;
    return `${message} (request from key ${key})`;
  }

  /** Leanplum's users as the CSV jobs and JSON multi calls left them (one store: `multi.users`). */
  get users(): Map<string, UserState> {
    return this.multi.users;
  }

  get apiUrl(): string {
    return `${this.url}/api`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    if (url.pathname === '/_sim/faults' && method === 'POST') {
      this.faults.add(JSON.parse((await readBody(req)).toString()) as Fault);
      return sendJson(res, 200, { ok: true });
    }
    if (url.pathname === '/_sim/config' && method === 'POST') {
      const c = JSON.parse((await readBody(req)).toString()) as { stuckPending?: boolean; clockOffsetSeconds?: number; stepMs?: number; echoKey?: boolean };
      if (c.stuckPending !== undefined) this.stuckPending = c.stuckPending;
      if (c.echoKey !== undefined) this.echoKey = c.echoKey;
      if (c.clockOffsetSeconds !== undefined) this.o.clockOffsetSeconds = c.clockOffsetSeconds;
      if (c.stepMs !== undefined) this.o.stepMs = c.stepMs;
      if (!this.stuckPending) for (const j of this.jobs.values()) if (j.state === 'PENDING') this.schedule(j);
      return sendJson(res, 200, { ok: true });
    }
    if (url.pathname === '/_sim/multi' && method === 'POST') {
      this.configureMulti(JSON.parse((await readBody(req)).toString()) as MultiConfig);
      return sendJson(res, 200, { ok: true });
    }
    if (url.pathname === '/_sim/multi' && method === 'GET') return sendJson(res, 200, { stats: this.multi.stats, conflicts: this.multi.conflicts });
    if (url.pathname === '/_sim/multi/applied' && method === 'GET') return sendJson(res, 200, this.multi.appliedActions());
    if (url.pathname === '/_sim/users' && method === 'GET') return sendJson(res, 200, Object.fromEntries(this.users));
    if (url.pathname === '/_sim/jobs' && method === 'GET') return sendJson(res, 200, [...this.jobs.values()]);
    if (url.pathname === '/_sim/requests' && method === 'GET') return sendJson(res, 200, this.requests);
    const rm = /^\/results\/([^/]+)\/(\d+)\.jsonl$/.exec(url.pathname);
    if (rm && method === 'GET') {
      const lines = this.results.get(rm[1]!);
      if (!lines) return sendJson(res, 404, { error: 'no such results file' });
      const text = lines.join('\n') + (lines.length ? '\n' : '');
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(text);
      return;
    }
    if (url.pathname !== '/api') return sendJson(res, 404, { error: 'not found' });

    const raw = await readBody(req);
    const fields = new URLSearchParams(url.search);
    const ctype = String(req.headers['content-type'] ?? '');
    let json: Record<string, unknown> | undefined;
    if (ctype.includes('application/json')) {
      try {
        json = JSON.parse(raw.toString() || '{}') as Record<string, unknown>;
      } catch (e) {
        // U: Leanplum's answer to a body that is not JSON is not documented
        return this.fail(res, 400, `The body is not valid JSON: ${(e as Error).message}`);
      }
    } else for (const [k, v] of new URLSearchParams(raw.toString())) fields.set(k, v);
    const get = (k: string) => (json && typeof json[k] === 'string' ? (json[k] as string) : (fields.get(k) ?? undefined));
    const action = get('action');
    this.requests.push({ action: action ?? '', at: Date.now() });
    const key = get('clientKey') ?? '';
    this.keyOf.set(res, key);
    const jsonMulti = action === 'multi' && json !== undefined && json['createJob'] !== true && get('createJob') !== 'true';

    const fault = this.faults.take(method, `${url.pathname} ${action ?? ''}${jsonMulti ? ' json' : ''}`);
    if (jsonMulti && json) return this.jsonMulti(req, res, url, json, key, fault, arrivedAt);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'drop-after') {
      // the request is carried out, but its answer never arrives
      res.writeHead = (() => res) as unknown as typeof res.writeHead;
      res.end = (() => {
        req.socket.destroy();
        return res;
      }) as unknown as typeof res.end;
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
    if (fault?.kind === 'status') {
      return this.fail(res, fault.status ?? 500, fault.status === 429 ? 'Too many requests' : 'Internal error', faultHeaders(fault));
    }
    if (fault?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"response":[{"success":tru');
      return;
    }

    if (get('apiVersion') === undefined) return this.fail(res, 400, 'apiVersion is required');
    const appId = get('appId') ?? '';
    const app = this.o.apps[appId];
    if (!app) return this.fail(res, 400, `App not found: ${appId}`);
    if (key !== app.devKey && key !== app.prodKey) return this.fail(res, 401, 'Invalid access key');

    if (action === 'multi' && get('createJob') === 'true') {
      if (key !== app.devKey) return this.fail(res, 401, 'Invalid access key: CSV imports require the Development key');
      const bucket = get('gcsBucket');
      const file = get('file');
      if (!bucket || !file) return this.fail(res, 400, 'gcsBucket and file are required with createJob');
      const defaultAction = get('defaultAction');
      if (defaultAction !== 'track' && defaultAction !== 'setUserAttributes')
        return this.fail(res, 400, `this simulator imports defaultAction=track or setUserAttributes, not ${defaultAction ?? '(none)'}`);
      const job: SimJob = {
        id: randomBytes(8).toString('hex'),
        appId,
        bucket,
        file,
        state: 'PENDING',
        defaultAction,
        createdAt: new Date().toISOString(),
        statusRequests: 0,
      };
      this.jobs.set(job.id, job);
      if (!this.stuckPending) this.schedule(job);
      return answer(res, 200, { success: true, jobId: job.id });
    }
    if (action === 'getMultiResults') {
      const job = this.jobs.get(get('jobId') ?? '');
      if (key !== app.devKey) return this.fail(res, 401, 'Invalid access key');
      if (!job || job.appId !== appId) return this.fail(res, 404, 'Job not found');
      job.statusRequests++;
      const r: Record<string, unknown> = { success: true, state: job.state };
      if (job.state === 'FINISHED') r['data'] = { successesCount: job.successes, failuresCount: job.failures, files: job.files };
      if (job.state === 'FAILED') r['error'] = { message: this.quoteKey(res, job.error ?? '') };
      return answer(res, 200, r);
    }
    return this.fail(res, 400, `Unknown action: ${action}`);
  }

  /** One JSON multi call: faults, the key and app, then the engine (leanplum-simulator-multi.ts). */
  private async jsonMulti(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Record<string, unknown>,
    key: string,
    fault: Fault | undefined,
    arrivedAt: number,
  ): Promise<void> {
    const callNo = this.multi.enter();
    try {
      const st = this.multi.stats;
      if (fault?.kind === 'drop' || fault?.kind === 'drop-mid-body') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'status') {
        const status = fault.status ?? 503;
        if (status === 429) st.status429++;
        if (status === 503) st.status503++;
        return this.fail(res, status, status === 429 ? 'Too many requests' : status === 503 ? 'Service unavailable' : 'Internal error', faultHeaders(fault));
      }
      if (fault?.kind === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"response":[{"success":tru');
        return;
      }
      // U: Leanplum would take a key from the URL; this simulator refuses it so that a tool doing so shows up
      if (url.searchParams.has('clientKey')) {
        st.keyInUrl++;
        st.refused++;
        return this.fail(res, 400, 'clientKey was sent in the URL query; send it in the body (URLs end up in logs)');
      }
      if (typeof body['apiVersion'] !== 'string') return this.fail(res, 400, 'apiVersion is required');
      const appId = typeof body['appId'] === 'string' ? body['appId'] : '';
      const app = this.o.apps[appId];
      if (!app) {
        st.refused++;
        return this.fail(res, 400, `App not found: ${appId}`);
      }
      if (typeof body['clientKey'] !== 'string' || (key !== app.devKey && key !== app.prodKey)) {
        st.refused++;
        return this.fail(res, 401, 'Invalid access key');
      }
      await this.multi.handle(
        callNo,
        {
          req,
          res,
          body,
          production: key === app.prodKey,
          now: this.nowSeconds(),
          arrivedAt,
          fail: (status, message, headers) => this.fail(res, status, message, headers),
        },
        fault?.kind === 'slow' ? (fault.delayMs ?? 1000) : 0,
        fault?.kind === 'drop-after',
      );
    } finally {
      this.multi.leave();
    }
  }

  /** JSON multi settings from a test or the demo (also over HTTP: POST /_sim/multi). */
  configureMulti(c: MultiConfig): void {
    if (c.reset) this.multi.reset();
    if (c.latencyMs !== undefined) this.multi.latencyMs = c.latencyMs;
    if (c.echoReqId !== undefined) this.multi.echoReqId = c.echoReqId;
    if (c.reorderAnswers !== undefined) this.multi.reorderAnswers = c.reorderAnswers;
    if (c.record !== undefined) this.multi.record = c.record;
    if (c.failEvents !== undefined) {
      const bad = new Set(c.failEvents);
      this.multi.failWhen = bad.size === 0 ? undefined : (a) => (bad.has(a['event'] as string) ? `Event rejected: ${String(a['event'])}` : undefined);
    }
    if (c.throttle) this.throttleMulti(c.throttle.times, c.throttle.retryAfterSeconds);
    if (c.unavailable) this.unavailableMulti(c.unavailable);
    if (c.loseAnswers) this.loseMultiAnswers(c.loseAnswers);
    if (c.slow) this.slowMulti(c.slow.times, c.slow.delayMs);
  }

  private nowSeconds(): number {
    return Date.now() / 1000 + (this.o.clockOffsetSeconds ?? 0);
  }

  /** One track action against LEANPLUM-API.md ("CSV for defaultAction=track"). */
  private checkAction(a: Record<string, unknown>, params: Record<string, unknown>, now: number): Record<string, unknown> {
    const err = (message: string) => ({ success: false, error: { message } });
    const text = (k: string) => (a[k] === undefined || a[k] === null ? '' : String(a[k]));
    const userId = text('userId');
    if (userId === '') return err('userId is required');
    if (chars(userId) > USER_ID_MAX_CHARS) return err(`userId is longer than ${USER_ID_MAX_CHARS} characters`);
    const event = text('event');
    if (event === '') return err('event is required');
    const eventProblem = badName(event);
    if (eventProblem) return err(`Invalid event name: ${eventProblem}`);
    for (const name of Object.keys(params)) {
      const p = badName(name);
      if (p) return err(`Invalid parameter name ${JSON.stringify(name)}: ${p}`);
    }
    // an empty cell under a params column is taken as "no parameter" (the document is silent)
    const given = Object.values(params).filter((v) => v !== undefined && v !== null && v !== '').length;
    if (given > PARAMS_PER_EVENT_MAX) return err(`Too many parameters: ${given} (at most ${PARAMS_PER_EVENT_MAX})`);
    const time = text('time');
    const t = Number(time);
    if (time.trim() === '' || !Number.isFinite(t)) return err('Invalid time');
    const value = text('value');
    if (value !== '' && !Number.isFinite(Number(value))) return err('Invalid value');
    // ISO 4217 codes are three capital letters; whether the code is assigned is not checked here
    const currency = text('currencyCode');
    if (currency !== '' && !/^[A-Z]{3}$/.test(currency)) return err('Invalid currencyCode');
    const age = now - t;
    if (age > YEAR_WINDOW) return { success: true, warning: { message: `Past event detected (${Math.floor(age / DAY)} days ago). Rewriting timestamp.` } };
    return { success: true };
  }

  private schedule(job: SimJob): void {
    const step = this.o.stepMs ?? 150;
    setTimeout(() => {
      if (job.state !== 'PENDING' || this.stuckPending) return;
      job.state = 'RUNNING';
      setTimeout(
        () =>
          void this.process(job).then(() => {
            if (job.state === 'FINISHED' || job.state === 'FAILED') job.endedAt ??= Date.now();
          }),
        step,
      );
    }, step);
  }

  private async process(job: SimJob): Promise<void> {
    const objectUrl = `${this.o.gcsUrl}/${encodeURIComponent(job.bucket)}/${job.file.split('/').map(encodeURIComponent).join('/')}`;
    let text: string;
    try {
      const res = await fetch(objectUrl, this.o.readerToken ? { headers: { authorization: `Bearer ${this.o.readerToken}` } } : {});
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (e) {
      job.state = 'FAILED';
      job.error = `Could not read gs://${job.bucket}/${job.file} (${(e as Error).message}). Check that the file exists and that Leanplum can read it.`;
      return;
    }
    if (text.charCodeAt(0) === 0xfeff) {
      job.state = 'FAILED';
      job.error = 'The file starts with a byte order mark; upload UTF-8 without BOM.';
      return;
    }
    let rows: string[][];
    try {
      rows = parse(text, { relax_column_count: true }) as string[][];
    } catch (e) {
      job.state = 'FAILED';
      job.error = `Malformed CSV: ${(e as Error).message}`;
      return;
    }
    const header = rows[0] ?? [];
    job.billableLookups = billable(header.indexOf('userId'), rows.slice(1));
    if (job.defaultAction === 'setUserAttributes') return this.processUsers(job, header, rows.slice(1));
    for (const col of ['userId', 'event', 'time']) {
      if (!header.includes(col)) {
        job.state = 'FAILED';
        job.error = `Missing required column ${col}`;
        return;
      }
    }
    if (header.some((h) => h === '')) {
      job.state = 'FAILED';
      job.error = 'Empty header column';
      return;
    }
    const now = this.nowSeconds();
    const lines: string[] = [];
    let successes = 0;
    let failures = 0;
    for (const row of rows.slice(1)) {
      let r: Record<string, unknown>;
      if (row.length !== header.length) r = { success: false, error: { message: `Row has ${row.length} fields, header has ${header.length}` } };
      else {
        const a: Record<string, string> = {};
        const params: Record<string, string> = {};
        // dotted columns nest: params.Level → params {Level}
        header.forEach((h, i) => {
          if (h.startsWith('params.')) params[h.slice('params.'.length)] = row[i]!;
          else a[h] = row[i]!;
        });
        r = this.checkAction(a, params, now);
        // the same rule as JSON multi's (configureMulti failEvents): a row the tool cannot know is bad
        const rule = r['success'] === true ? this.multi.failWhen?.({ ...a, params }) : undefined;
        if (rule !== undefined) r = { success: false, error: { message: rule } };
      }
      if (r['success'] === true) successes++;
      else failures++;
      lines.push(JSON.stringify(r));
    }
    this.finish(job, lines, successes, failures);
  }

  private finish(job: SimJob, lines: string[], successes: number, failures: number): void {
    this.results.set(job.id, lines);
    job.successes = successes;
    job.failures = failures;
    job.files = [`${this.url}/results/${job.id}/0.jsonl`];
    job.state = 'FINISHED';
  }

  /** A setUserAttributes job: the header judged once, then each row checked and applied to `users`. */
  private processUsers(job: SimJob, header: string[], rows: string[][]): void {
    const problem = userHeaderProblem(header);
    if (problem !== undefined) {
      job.state = 'FAILED';
      job.error = problem;
      return;
    }
    const lines: string[] = [];
    let successes = 0;
    let failures = 0;
    for (const row of rows) {
      const built = row.length !== header.length ? `Row has ${row.length} fields, header has ${header.length}` : userRowAction(header, row);
      const why = typeof built === 'string' ? built : checkSetUserAttributes(built);
      if (why === undefined) {
        applySetUserAttributes(this.users, built as Action);
        successes++;
        lines.push(JSON.stringify({ success: true }));
      } else {
        failures++;
        lines.push(JSON.stringify({ success: false, error: { message: why } }));
      }
    }
    this.finish(job, lines, successes, failures);
  }
}

/** V: "each unique user looked up in a batch [of 50 actions] is one billable call". */
function billable(userCol: number, rows: string[][]): number {
  let n = 0;
  for (let i = 0; i < rows.length; i += 50) n += new Set(rows.slice(i, i + 50).map((r) => r[userCol] ?? '')).size;
  return n;
}

const USER_TEXT_FIELDS = new Set(['locale', 'country', 'region', 'city', 'timezone']);
const USER_TIME_FIELDS = new Set(['created', 'lastActive']);
const EVENT_COLUMN_FIELDS = new Set(['count', 'firstTime', 'lastTime', 'value']);

/** Why a setUserAttributes CSV header cannot be imported (the job FAILS), or undefined. */
function userHeaderProblem(header: string[]): string | undefined {
  if (header[0] !== 'userId') return `userId must be the first column of the CSV file (found ${JSON.stringify(header[0] ?? '')})`;
  if (header.some((h) => h === '')) return 'Empty header column';
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) return `Column ${JSON.stringify(h)} appears twice`;
    seen.add(h);
    if (h === 'userId' || USER_TEXT_FIELDS.has(h) || USER_TIME_FIELDS.has(h)) continue;
    if (h.startsWith('userAttributes.')) {
      const name = h.slice('userAttributes.'.length);
      if (name.includes('.')) return `Column ${JSON.stringify(h)}: a dot nests, ${JSON.stringify(name)} is not one attribute name`;
      const bad = badName(name);
      if (bad) return `Column ${JSON.stringify(h)}: invalid attribute name: ${bad}`;
      continue;
    }
    if (h.startsWith('events.')) {
      const rest = h.slice('events.'.length);
      const dot = rest.lastIndexOf('.');
      const name = rest.slice(0, Math.max(0, dot));
      const field = rest.slice(dot + 1);
      if (dot < 0 || !EVENT_COLUMN_FIELDS.has(field)) return `Column ${JSON.stringify(h)}: expected events.<name>.count|firstTime|lastTime|value`;
      const bad = badName(name);
      if (bad) return `Column ${JSON.stringify(h)}: invalid event name: ${bad}`;
      continue;
    }
    return `Unknown column ${JSON.stringify(h)} for setUserAttributes`;
  }
  return undefined;
}

const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** U: how the stand-in types a CSV cell under userAttributes (see the top). */
function cellValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (JSON_NUMBER.test(text)) return Number(text);
  if (text.startsWith('[') && text.endsWith(']')) {
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((x) => scalarValue(x.trim()));
  }
  return text;
}
const scalarValue = (text: string): unknown => (JSON_NUMBER.test(text) ? Number(text) : text);

/** One setUserAttributes CSV row (its header passed userHeaderProblem) as an action, or why not. */
function userRowAction(header: string[], row: string[]): Action | string {
  const a: Action = { action: 'setUserAttributes', userId: row[0] };
  const attrs: Record<string, unknown> = {};
  const events: Record<string, Record<string, number>> = {};
  for (let i = 1; i < header.length; i++) {
    const h = header[i]!;
    const v = row[i]!;
    if (v === '') continue; // U: an empty cell is not sent
    if (USER_TEXT_FIELDS.has(h)) a[h] = v;
    else if (USER_TIME_FIELDS.has(h)) {
      if (!/^-?[0-9]+$/.test(v)) return `Invalid ${h}: must be whole UNIX seconds, got ${JSON.stringify(v)}`;
      a[h] = Number(v);
    } else if (h.startsWith('userAttributes.')) attrs[h.slice('userAttributes.'.length)] = cellValue(v);
    else {
      const rest = h.slice('events.'.length);
      const dot = rest.lastIndexOf('.');
      const name = rest.slice(0, dot);
      const field = rest.slice(dot + 1);
      let n: number;
      if (field === 'count') {
        if (!/^[0-9]+$/.test(v)) return `Invalid ${h}: count must be a whole number ≥ 0, got ${JSON.stringify(v)}`;
        n = Number(v);
      } else {
        n = JSON_NUMBER.test(v) ? Number(v) : Number.NaN;
        if (!Number.isFinite(n)) return `Invalid ${h}: must be a number${field === 'value' ? '' : ' of seconds'}, got ${JSON.stringify(v)}`;
      }
      (events[name] ??= {})[field] = n;
    }
  }
  if (Object.keys(attrs).length > 0) a['userAttributes'] = attrs;
  if (Object.keys(events).length > 0) a['events'] = events;
  return a;
}

/**
 * A Leanplum stand-in for the API sink alone (no GCS): one app, its Production and Development keys.
 * For the demo and benches: `const lp = await startApiSimulator(); … --api-url lp.apiUrl --app-id lp.appId`
 * with LEANPLUM_PROD_KEY=lp.prodKey; `await lp.sim.stop()` at the end.
 */
export async function startApiSimulator(o: { appId?: string; prodKey?: string; devKey?: string; multi?: MultiOptions; port?: number } = {}) {
  const appId = o.appId ?? 'demo-app';
  const prodKey = o.prodKey ?? 'demo-prod-key-0000';
  const devKey = o.devKey ?? 'demo-dev-key-0000';
  const sim = new LeanplumSimulator({
    apps: { [appId]: { devKey, prodKey } },
    ...(o.multi ? { multi: o.multi } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
  });
  await sim.start();
  return { sim, apiUrl: sim.apiUrl, appId, prodKey, devKey };
}
