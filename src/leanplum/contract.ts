/**
 * Leanplum's API as this tool understands it. Facts marked V are documented or seen in real
 * traffic; U marks our assumptions (see shared LEANPLUM-API.md). Every U lives in this file, and an
 * answer that does not fit raises a LeanplumProtocolError instead of being guessed at.
 */
export const API_VERSION = '1.0.6'; // V
export const DEFAULT_API_URL = 'https://api.leanplum.com/api'; // V
export const JOB_STATES = ['PENDING', 'RUNNING', 'FINISHED', 'FAILED'] as const; // V
export type JobState = (typeof JOB_STATES)[number];

/** Messages that mean "stop, retrying will not help" (V, by prefix). */
export const PERMANENT_MESSAGES = ['App not found', 'Invalid access key', 'Development mode requested but not permitted'];
/** The 365-day rule fired inside Leanplum (V): the clamp failed or the job ran too late. */
export const PAST_EVENT_WARNING = /^Past event detected \((\d+) days? ago\)/;
export const CLOCK_SKEW_WARNING = /^Device clock skew detected/;
export const TIME_SKEW_WARNING = /^Anomaly detected: time skew/;

export class LeanplumProtocolError extends Error {
  constructor(
    message: string,
    readonly body: string,
  ) {
    super(message);
    this.name = 'LeanplumProtocolError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Every answer is {"response":[{...}]} (V). */
export function firstResponse(body: unknown, raw: string): Obj {
  if (!isObj(body) || !Array.isArray(body['response']) || !isObj(body['response'][0])) {
    throw new LeanplumProtocolError('expected {"response":[{...}]}', raw.slice(0, 500));
  }
  return body['response'][0];
}

export function errorMessageOf(r: Obj): string | undefined {
  const e = r['error'];
  return isObj(e) && typeof e['message'] === 'string' ? e['message'] : undefined;
}

/** Launch answer: success + jobId. The jobId format is not documented (U): any non-empty string. */
export function parseLaunch(body: unknown, raw: string): { jobId: string; warning: string | undefined } {
  const r = firstResponse(body, raw);
  if (r['success'] !== true) throw new LeanplumProtocolError(`launch refused: ${errorMessageOf(r) ?? 'no message'}`, raw.slice(0, 500));
  const jobId = r['jobId'];
  if (typeof jobId !== 'string' && typeof jobId !== 'number') throw new LeanplumProtocolError('launch answer has no jobId', raw.slice(0, 500));
  const w = r['warning'];
  return { jobId: String(jobId), warning: isObj(w) && typeof w['message'] === 'string' ? w['message'] : undefined };
}

export interface JobStatus {
  state: JobState;
  successes?: number;
  failures?: number;
  files?: string[];
  /** FAILED payload: U, assumed to be an optional error.message */
  error?: string;
}

/** getMultiResults (V): state, and data{successesCount, failuresCount, files} once FINISHED. */
export function parseStatus(body: unknown, raw: string): JobStatus {
  const r = firstResponse(body, raw);
  if (r['success'] !== true) throw new LeanplumProtocolError(`status refused: ${errorMessageOf(r) ?? 'no message'}`, raw.slice(0, 500));
  const state = r['state'];
  if (typeof state !== 'string' || !(JOB_STATES as readonly string[]).includes(state)) {
    throw new LeanplumProtocolError(`unknown job state ${JSON.stringify(state)}`, raw.slice(0, 500));
  }
  const out: JobStatus = { state: state as JobState };
  const err = errorMessageOf(r);
  if (err !== undefined) out.error = err;
  if (state === 'FINISHED') {
    const d = r['data'];
    if (!isObj(d) || typeof d['successesCount'] !== 'number' || typeof d['failuresCount'] !== 'number' || !Array.isArray(d['files'])) {
      throw new LeanplumProtocolError('FINISHED without data{successesCount, failuresCount, files}', raw.slice(0, 500));
    }
    out.successes = d['successesCount'];
    out.failures = d['failuresCount'];
    out.files = d['files'].map(String);
  }
  return out;
}

export interface ActionResult {
  success: boolean;
  warning: string | undefined;
  error: string | undefined;
}

/** One JSON line of a results file (V). Line order = row order is U; the caller says so in the report. */
export function parseResultLine(line: string): ActionResult {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new LeanplumProtocolError('a results line is not JSON', line.slice(0, 200));
  }
  if (!isObj(v) || typeof v['success'] !== 'boolean') throw new LeanplumProtocolError('a results line has no "success"', line.slice(0, 200));
  const w = v['warning'];
  return { success: v['success'], warning: isObj(w) && typeof w['message'] === 'string' ? w['message'] : undefined, error: errorMessageOf(v) };
}

// ---- JSON `multi` (the API sink), LEANPLUM-API.md "JSON multi (synchronous)" ----

/** At most this many distinct users and actions per call, else HTTP 403 and the whole call is ignored (V). */
export const MULTI_MAX_USERS = 50; // V
export const MULTI_MAX_ACTIONS = 500; // V

export type MultiMatch = { ok: true; results: ActionResult[]; matchedBy: 'reqId' | 'index' } | { ok: false; reason: string };

const actionResultOf = (r: Obj): ActionResult => {
  const w = r['warning'];
  return {
    success: r['success'] === true && errorMessageOf(r) === undefined,
    warning: isObj(w) && typeof w['message'] === 'string' ? w['message'] : undefined,
    error: errorMessageOf(r) ?? (r['success'] === true ? undefined : 'success:false without a message'),
  };
};

/**
 * A 200 answer to a JSON multi call: one response per action, in request order (V docs; one 2017
 * client saw another order: U). When the responses echo `reqId` (the SDKs find answers by it: V
 * SDK code) they are matched by it, else by position. Anything else — not {"response":[…]}, a count
 * that differs from the actions sent, a reqId that was not sent or answered twice — is no answer:
 * the batch's outcome is unknown, never guessed.
 * "success:true" with an `error` counts as failed (V: "verify there are no error or warning messages").
 */
export function matchMultiAnswer(body: unknown, reqIds: readonly string[]): MultiMatch {
  if (!isObj(body) || !Array.isArray(body['response'])) return { ok: false, reason: 'the answer is not {"response":[…]}' };
  const resp = body['response'];
  if (resp.length !== reqIds.length) return { ok: false, reason: `${resp.length} response(s) for ${reqIds.length} action(s)` };
  if (!resp.every(isObj)) return { ok: false, reason: 'a response is not an object' };
  const rs = resp as Obj[];
  if (rs.some((r) => typeof r['success'] !== 'boolean')) return { ok: false, reason: 'a response has no "success"' };
  const echoed = rs.filter((r) => typeof r['reqId'] === 'string').length;
  if (echoed === 0) return { ok: true, results: rs.map(actionResultOf), matchedBy: 'index' };
  if (echoed !== rs.length) return { ok: false, reason: `${echoed} of ${rs.length} responses carry a reqId` };
  const at = new Map(reqIds.map((id, i) => [id, i]));
  const out: (ActionResult | undefined)[] = new Array(reqIds.length);
  for (const r of rs) {
    const i = at.get(r['reqId'] as string);
    if (i === undefined) return { ok: false, reason: `a response names reqId ${String(r['reqId'])}, which this batch did not send` };
    if (out[i] !== undefined) return { ok: false, reason: `two responses for reqId ${String(r['reqId'])}` };
    out[i] = actionResultOf(r);
  }
  return { ok: true, results: out as ActionResult[], matchedBy: 'reqId' };
}

/**
 * "App endpoint configuration mismatch" answers carry `apiHost` (and `apiPath`) and tell the SDKs
 * to resend there (V SDK code). Where in the answer they sit is U: the first response element. The
 * host must be a bare host name (no scheme, path or user); the caller builds an https URL from it.
 */
export function apiHostRedirect(body: unknown): { host: string; path: string | undefined } | undefined {
  if (!isObj(body) || !Array.isArray(body['response']) || !isObj(body['response'][0])) return undefined;
  const r = body['response'][0];
  const host = r['apiHost'];
  if (typeof host !== 'string' || r['success'] === true) return undefined;
  const path = r['apiPath'];
  return { host, path: typeof path === 'string' ? path : undefined };
}

/** Retry-After on a JSON multi answer is not documented (U): honoured as a floor when present. */
export const MULTI_RETRY_STATUSES = (status: number): boolean => status === 408 || status === 429 || status >= 500; // V (SDK code)
