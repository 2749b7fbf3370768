import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'csv-parse/sync';
import { nameProblem, USER_ID_MAX } from '../../src/events/names.js';
import { FaultQueue, LoopbackService, readBody, sendJson, type Fault } from './http-util.js';

/**
 * A local Leanplum that holds the contract in shared/LEANPLUM-API.md: checks the app and the key
 * class, reads the CSV from the GCS stand-in with its own permissions, moves a job
 * PENDING → RUNNING → FINISHED/FAILED, validates every row and answers with JSON-Lines results,
 * including "Past event detected" for rows older than 365 days at its own processing time.
 * It also enforces the JSON multi limits. Faults can be injected over HTTP.
 */
export interface SimulatorOptions {
  apps: Record<string, { devKey: string; prodKey: string }>;
  /** base URL of the GCS (stand-in) that objects are read from: <gcsUrl>/<bucket>/<object> */
  gcsUrl: string;
  /** bearer token Leanplum's account presents when reading objects (granted per bucket) */
  readerToken?: string;
  /** time between job state changes */
  stepMs?: number;
  /** Leanplum's processing clock = real clock + this (to simulate a late job) */
  clockOffsetSeconds?: number;
  host?: string;
  port?: number;
}

export interface SimJob {
  id: string;
  appId: string;
  bucket: string;
  file: string;
  state: 'PENDING' | 'RUNNING' | 'FINISHED' | 'FAILED';
  createdAt: string;
  error?: string;
  successes?: number;
  failures?: number;
  files?: string[];
  statusRequests: number;
}

const DAY = 86_400;
const YEAR_WINDOW = 365 * DAY;

const answer = (res: ServerResponse, status: number, r: Record<string, unknown>) => sendJson(res, status, { response: [r] });
const fail = (res: ServerResponse, status: number, message: string) => answer(res, status, { success: false, error: { message } });

export class LeanplumSimulator extends LoopbackService {
  readonly jobs = new Map<string, SimJob>();
  private results = new Map<string, string[]>();
  readonly faults = new FaultQueue();
  stuckPending = false;
  /** every API call as received (before any injected fault), without its key */
  readonly requests: { action: string; at: number }[] = [];

  constructor(private readonly o: SimulatorOptions) {
    super();
  }

  start(): Promise<string> {
    return this.listen(this.o.port, this.o.host);
  }

  protected internalError(res: ServerResponse, e: Error): void {
    fail(res, 500, `simulator: ${e.message}`);
  }

  get apiUrl(): string {
    return `${this.url}/api`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    if (url.pathname === '/_sim/faults' && method === 'POST') {
      this.faults.add(JSON.parse((await readBody(req)).toString()) as Fault);
      return sendJson(res, 200, { ok: true });
    }
    if (url.pathname === '/_sim/config' && method === 'POST') {
      const c = JSON.parse((await readBody(req)).toString()) as { stuckPending?: boolean; clockOffsetSeconds?: number; stepMs?: number };
      if (c.stuckPending !== undefined) this.stuckPending = c.stuckPending;
      if (c.clockOffsetSeconds !== undefined) this.o.clockOffsetSeconds = c.clockOffsetSeconds;
      if (c.stepMs !== undefined) this.o.stepMs = c.stepMs;
      if (!this.stuckPending) for (const j of this.jobs.values()) if (j.state === 'PENDING') this.schedule(j);
      return sendJson(res, 200, { ok: true });
    }
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
    if (ctype.includes('application/json')) json = JSON.parse(raw.toString() || '{}') as Record<string, unknown>;
    else for (const [k, v] of new URLSearchParams(raw.toString())) fields.set(k, v);
    const get = (k: string) => (json && typeof json[k] === 'string' ? (json[k] as string) : fields.get(k) ?? undefined);
    const action = get('action');
    this.requests.push({ action: action ?? '', at: Date.now() });

    const fault = this.faults.take(method, `${url.pathname} ${action ?? ''}`);
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 1000));
    if (fault?.kind === 'status') return fail(res, fault.status ?? 500, fault.status === 429 ? 'Too many requests' : 'Internal error');
    if (fault?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"response":[{"success":tru');
      return;
    }

    if (get('apiVersion') === undefined) return fail(res, 400, 'apiVersion is required');
    const appId = get('appId') ?? '';
    const app = this.o.apps[appId];
    if (!app) return fail(res, 400, `App not found: ${appId}`);
    const key = get('clientKey') ?? '';
    if (key !== app.devKey && key !== app.prodKey) return fail(res, 401, 'Invalid access key');

    if (action === 'multi' && get('createJob') === 'true') {
      if (key !== app.devKey) return fail(res, 401, 'Invalid access key: CSV imports require the Development key');
      const bucket = get('gcsBucket');
      const file = get('file');
      if (!bucket || !file) return fail(res, 400, 'gcsBucket and file are required with createJob');
      if (get('defaultAction') !== 'track') return fail(res, 400, 'this simulator only imports defaultAction=track');
      const job: SimJob = { id: randomBytes(8).toString('hex'), appId, bucket, file, state: 'PENDING', createdAt: new Date().toISOString(), statusRequests: 0 };
      this.jobs.set(job.id, job);
      if (!this.stuckPending) this.schedule(job);
      return answer(res, 200, { success: true, jobId: job.id });
    }
    if (action === 'getMultiResults') {
      const job = this.jobs.get(get('jobId') ?? '');
      if (key !== app.devKey) return fail(res, 401, 'Invalid access key');
      if (!job || job.appId !== appId) return fail(res, 404, 'Job not found');
      job.statusRequests++;
      const r: Record<string, unknown> = { success: true, state: job.state };
      if (job.state === 'FINISHED') r['data'] = { successesCount: job.successes, failuresCount: job.failures, files: job.files };
      if (job.state === 'FAILED') r['error'] = { message: job.error };
      return answer(res, 200, r);
    }
    if (action === 'multi') return this.jsonMulti(res, json, key === app.prodKey);
    return fail(res, 400, `Unknown action: ${action}`);
  }

  /** Synchronous JSON multi: 50 users / 500 actions per call, else 403 and nothing is done (V). */
  private jsonMulti(res: ServerResponse, body: Record<string, unknown> | undefined, production: boolean): void {
    const data = body?.['data'];
    if (!Array.isArray(data)) return fail(res, 400, 'data must be an array of actions');
    const users = new Set(data.map((a) => (a as Record<string, unknown>)['userId']));
    if (data.length > 500 || users.size > 50) return fail(res, 403, `Batch too large: ${data.length} actions, ${users.size} users (at most 500 actions and 50 users)`);
    if (!production) return fail(res, 401, 'Invalid access key: track requires the Production key');
    const now = this.nowSeconds();
    const out = data.map((a) => {
      const r = this.checkAction(a as Record<string, string>, now);
      return r;
    });
    sendJson(res, 200, { response: out });
  }

  private nowSeconds(): number {
    return Date.now() / 1000 + (this.o.clockOffsetSeconds ?? 0);
  }

  private checkAction(a: Record<string, string | undefined>, now: number): Record<string, unknown> {
    const err = (message: string) => ({ success: false, error: { message } });
    if (!a['userId']) return err('userId is required');
    if (a['userId'].length > USER_ID_MAX) return err('userId too long');
    if (!a['event']) return err('event is required');
    const np = nameProblem(a['event']);
    if (np) return err(`Invalid event name: ${np}`);
    const t = Number(a['time']);
    if (a['time'] === undefined || a['time'] === '' || !Number.isFinite(t)) return err('Invalid time');
    if (a['value'] !== undefined && a['value'] !== '' && !Number.isFinite(Number(a['value']))) return err('Invalid value');
    const age = now - t;
    if (age > YEAR_WINDOW) return { success: true, warning: { message: `Past event detected (${Math.floor(age / DAY)} days ago). Rewriting timestamp.` } };
    return { success: true };
  }

  private schedule(job: SimJob): void {
    const step = this.o.stepMs ?? 150;
    setTimeout(() => {
      if (job.state !== 'PENDING' || this.stuckPending) return;
      job.state = 'RUNNING';
      setTimeout(() => void this.process(job), step);
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
        header.forEach((h, i) => (a[h] = row[i]!));
        const bad = header.filter((h) => h.startsWith('params.')).map((h) => nameProblem(h.slice(7))).find((p) => p !== undefined);
        r = bad ? { success: false, error: { message: `Invalid parameter name: ${bad}` } } : this.checkAction(a, now);
      }
      if (r['success'] === true) successes++;
      else failures++;
      lines.push(JSON.stringify(r));
    }
    this.results.set(job.id, lines);
    job.successes = successes;
    job.failures = failures;
    job.files = [`${this.url}/results/${job.id}/0.jsonl`];
    job.state = 'FINISHED';
  }
}
