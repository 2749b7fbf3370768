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
