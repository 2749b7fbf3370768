/**
 * Leanplum's synchronous JSON `multi` call, as a stand-in (used by LeanplumSimulator, which routes
 * `POST /api?action=multi` with a JSON body here). Written from shared/LEANPLUM-API.md ("JSON
 * `multi`", "setUserAttributes", "CSV for defaultAction=track" → "Limits"), never from the tool.
 *
 * Documented by Leanplum or seen in real traffic (V):
 * - body `{"appId","clientKey","apiVersion","time","data":[actions]}`; the Production key only;
 *   "App not found" / "Invalid access key" / "Development mode requested but not permitted".
 * - more than 50 distinct users or 500 actions in one call → HTTP 403, nothing applied.
 * - a call for a user already inside a running call → 429 ("strict device locking").
 * - the answer `{"response":[…]}` has one element per action in request order: `{"success":true}`,
 *   `{"success":true,"warning":{"message"}}` or `{"success":false,"error":{"message"}}`.
 * - "Past event detected (N days ago). Rewriting timestamp." for an event older than 365 days
 *   (wording from recorded traffic).
 * - the name rules (1–139 characters, no leading `.`/`-`, no trailing `/`, none of `,|"{` tab
 *   newline, not purely numeric), userId ≤ 400 characters, ≤ 50 params per event.
 * - the SDKs send `reqId` per action and `uuid` per batch in every action; the server drops
 *   duplicates by them (SDK source) and echoes `reqId` (the SDKs match answers by it).
 * - `setUserAttributes`: `userId`, `userAttributes` (only the ones sent change, the rest stay),
 *   list values as JSON arrays, `userAttributeValuesToAdd/ToRemove`, `…ToIncrement` (integers),
 *   `events` name → {count, value, firstTime, lastTime} (epoch seconds) and, beside them,
 *   `countIncrement`/`valueIncrement` (VENDOR-PROFILES.md §0 [S5]); `created`, `lastActive`
 *   (seconds since midnight UTC), `locale`, `country`, `region`, `city`, `timezone`,
 *   `timezoneOffsetSeconds`. Billing: each unique user in a call is one lookup, as for track.
 *
 * Assumed here (U), chosen strict so that a sloppy client shows up in tests:
 * - a clientKey in the URL query is refused with 400 (Leanplum accepts it; the tool must never do it).
 * - status codes: unknown app 400, bad or Development key 401, devMode 400; the 429 lock answer has
 *   no Retry-After and the message below; a body that is not JSON → 400.
 * - the lock covers a call from the moment its users are known until its answer is written; with
 *   no added latency the handling is synchronous and no two calls can overlap, so tests of the
 *   lock set `latencyMs`. A call's actions are applied when it arrives, its answer is written after
 *   the added latency (counted from arrival).
 * - dedupe needs both `uuid` and `reqId` in the action; a duplicate is answered `{"success":true}`
 *   (no warning, not re-checked) and counted; a failed action is not remembered.
 * - types: `time` (top level and per action) a finite number of seconds; `value` a number;
 *   `userId` and `event` strings; `params` an object whose values are strings, numbers or booleans;
 *   attribute values strings, numbers, booleans, null (clears) or arrays of strings/numbers.
 * - unknown action names and missing `action` are per-action errors; unknown fields are ignored.
 * - `events` in setUserAttributes SET the user's aggregate for that event: a `count`, `value`,
 *   `firstTime` or `lastTime` sent replaces the stored one, the fields not sent stay; only
 *   `countIncrement`/`valueIncrement` add (inferred from the documented pairs count/countIncrement
 *   and value/valueIncrement; Leanplum does not say it in words). A `track` adds one occurrence
 *   (count + 1, value summed, first/last time widened). No past-event warning on aggregates.
 * - `created` and `lastActive` must be whole seconds (the CSV reference says "Unix timestamp"; the
 *   stand-in is strict); `firstTime`/`lastTime` may have fractions like a track's `time`.
 * - attribute names follow the event-name rules (1–139 characters, …): documented for event and
 *   parameter names only; a `.` in a JSON attribute name is a plain character (it nests only in CSV).
 * - `null` as an attribute value clears it (V in the SDKs, U through REST).
 * - the error message wordings other than the V ones above.
 *
 * Test controls (on LeanplumSimulator; also POST /_sim/multi with a MultiConfig): throttleMulti(n,
 * retryAfter) → 429 + Retry-After; unavailableMulti(n) → 503; slowMulti(n, ms); dropMulti(n) (cut,
 * nothing applied); loseMultiAnswers(n) (applied, then the connection is cut); `multi.failWhen` or
 * `failEvents` (per-action failures by rule); `latencyMs`; `echoReqId`; `reorderAnswers`; `echoKey`.
 * Introspection: `sim.multi.stats` (calls, applied, failed, warned, duplicates, 403s, 429s, lock
 * conflicts, 503s, key in URL, answers lost, billable lookups, max calls and users in flight),
 * `applied` (per user, in order, with uuid/reqId/time), `appliedActions()`, `users` (attributes and
 * event aggregates), `conflicts`, `usersInFlight`; over HTTP GET /_sim/multi and /_sim/multi/applied.
 * Speed: `record: 'counts'` keeps no per-action memory, for benches of a million actions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const DAY = 86_400;
const YEAR_WINDOW = 365 * DAY;
const MAX_USERS = 50;
const MAX_ACTIONS = 500;

// The limits below are copied from LEANPLUM-API.md ("CSV for defaultAction=track", "Limits"), not
// taken from the tool: the stand-in exists to disagree with the tool when the tool is wrong.
const NAME_MAX_CHARS = 139;
export const USER_ID_MAX_CHARS = 400;
export const PARAMS_PER_EVENT_MAX = 50;
const NAME_FORBIDDEN = [',', '|', '"', '{', '\t', '\n', '\r'];

/** "Characters" read as Unicode code points: the document does not say UTF-16 units. */
export const chars = (s: string) => (s.length <= NAME_MAX_CHARS ? countCodePoints(s) : [...s].length);
function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
    else {
      n++;
      i++;
    }
  }
  return n;
}

/** Why Leanplum would refuse this event or parameter name (LEANPLUM-API.md, "Limits"), or undefined. */
export function badName(name: string): string | undefined {
  const n = chars(name);
  if (n < 1 || n > NAME_MAX_CHARS) return `must be 1-${NAME_MAX_CHARS} characters, has ${n}`;
  if (name[0] === '.' || name[0] === '-') return `must not start with ${JSON.stringify(name[0])}`;
  if (name.endsWith('/')) return 'must not end with "/"';
  const c = NAME_FORBIDDEN.find((x) => name.includes(x));
  if (c !== undefined) return `must not contain ${JSON.stringify(c)}`;
  // "purely numeric": made of nothing but digits and decimal points
  if (/^[0-9.]+$/.test(name) && /[0-9]/.test(name)) return 'must not be purely numeric';
  return undefined;
}

/** badName with a bounded memo: names repeat a lot in a backfill, and the bench sends a million. */
const nameMemo = new Map<string, string | undefined>();
function badNameCached(name: string): string | undefined {
  if (nameMemo.has(name)) return nameMemo.get(name);
  const r = badName(name);
  if (nameMemo.size > 20_000) nameMemo.clear();
  nameMemo.set(name, r);
  return r;
}

export type Action = Record<string, unknown>;
export type RecordMode = 'all' | 'keys' | 'counts';

/** One action the simulator applied, in the order it applied them. */
export interface AppliedAction {
  /** the JSON multi call it came in (1-based, counting every JSON multi call received) */
  call: number;
  /** its index in that call's `data` */
  index: number;
  action: string;
  userId: string;
  uuid: string | undefined;
  reqId: string | undefined;
  /** the action's own `time` (track) */
  time: number | undefined;
  event: string | undefined;
  /** the action as received */
  data: Action;
}

/** What the stand-in holds for one user (Leanplum has one user store: CSV jobs and JSON multi write it). */
export interface UserState {
  attributes: Record<string, unknown>;
  events: Record<string, EventAggregate>;
  /** the documented non-attribute fields last set: created, lastActive, locale, country, region, city, timezone, timezoneOffsetSeconds */
  fields: Record<string, string | number>;
}

export interface EventAggregate {
  count: number;
  value: number;
  firstTime: number | undefined;
  lastTime: number | undefined;
}

export interface MultiStats {
  /** JSON multi calls received (every one, whatever its answer) */
  calls: number;
  /** calls answered 200 with per-action results (including those whose answer was then lost) */
  answered: number;
  actionsReceived: number;
  applied: number;
  /** per-action failures (success:false) */
  failed: number;
  /** answered success with a warning */
  warned: number;
  /** actions whose (uuid, reqId) had been applied before: answered success, not applied again */
  duplicates: number;
  /** over the limits → 403 */
  status403: number;
  /** every 429: lock conflicts and injected ones */
  status429: number;
  /** 429s for a user already in flight */
  lockConflicts: number;
  status503: number;
  /** refused: key or app problems (401/400) */
  refused: number;
  /** calls that carried clientKey in the URL */
  keyInUrl: number;
  /** answers destroyed after applying (fault) */
  answersLost: number;
  /** Σ distinct users over the calls that were applied (billable lookups, V) */
  billableLookups: number;
  inFlight: number;
  maxInFlight: number;
  /** the most distinct users inside running calls at one moment */
  maxUsersInFlight: number;
}

const zeroStats = (): MultiStats => ({
  calls: 0,
  answered: 0,
  actionsReceived: 0,
  applied: 0,
  failed: 0,
  warned: 0,
  duplicates: 0,
  status403: 0,
  status429: 0,
  lockConflicts: 0,
  status503: 0,
  refused: 0,
  keyInUrl: 0,
  answersLost: 0,
  billableLookups: 0,
  inFlight: 0,
  maxInFlight: 0,
  maxUsersInFlight: 0,
});

export interface MultiOptions {
  /**
   * 'all' (default): every applied action and per-user state is kept, and duplicates are dropped.
   * 'keys': duplicates are dropped, but only the (uuid, reqId) keys are kept, no actions (about a
   * third of the memory of 'all'); 'counts': only the counters, no dedupe (benches in one process).
   */
  record?: RecordMode;
  /** added to every call while its users are locked (ms) */
  latencyMs?: number;
  /** echo each action's reqId in its answer (V, SDK code); off to test matching by index */
  echoReqId?: boolean;
}

/** What the host simulator tells the engine about one call. */
export interface MultiCall {
  req: IncomingMessage;
  res: ServerResponse;
  body: Record<string, unknown>;
  production: boolean;
  now: number;
  /** performance.now() when the request arrived */
  arrivedAt: number;
  /** writes an error answer (quoting the key in echo mode) */
  fail: (status: number, message: string, headers?: Record<string, string>) => void;
}

const SUCCESS = Object.freeze({ success: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class JsonMulti {
  stats = zeroStats();
  /** per user, the actions applied in order ('all' mode) */
  readonly applied = new Map<string, AppliedAction[]>();
  readonly users = new Map<string, UserState>();
  /** users inside a running call right now */
  readonly usersInFlight = new Set<string>();
  /** each 429 lock conflict: the call and the users it shared with running calls */
  readonly conflicts: { call: number; users: string[] }[] = [];
  /** each answered call: its users and when it arrived and was answered (performance.now()); a canary test orders calls by it */
  readonly callLog: { call: number; users: string[]; arrivedAt: number; answeredAt: number }[] = [];
  /** uuid → the reqIds applied under it */
  private seen = new Map<string, Set<string>>();
  /** an action failing this predicate gets `{success:false,error:{message}}` (a canary's "bad row") */
  failWhen: ((a: Action) => string | undefined) | undefined;
  record: RecordMode;
  latencyMs: number;
  echoReqId: boolean;
  /** answers in reverse order (U: one 2017 client reported answers out of request order); with reqId echo the client can still match them */
  reorderAnswers = false;

  constructor(o: MultiOptions = {}) {
    this.record = o.record ?? 'all';
    this.latencyMs = o.latencyMs ?? 0;
    this.echoReqId = o.echoReqId ?? true;
  }

  /** Forget everything applied and all counters (not the settings). */
  reset(): void {
    this.stats = zeroStats();
    this.applied.clear();
    this.users.clear();
    this.usersInFlight.clear();
    this.conflicts.length = 0;
    this.callLog.length = 0;
    this.seen.clear();
  }

  /** Every applied action, in the order applied. */
  appliedActions(): AppliedAction[] {
    const all = [...this.applied.values()].flat();
    return all.sort((a, b) => a.call - b.call || a.index - b.index);
  }

  /** Called when a JSON multi request arrives, before its body is read. */
  enter(): number {
    this.stats.calls++;
    this.stats.inFlight++;
    if (this.stats.inFlight > this.stats.maxInFlight) this.stats.maxInFlight = this.stats.inFlight;
    return this.stats.calls;
  }

  leave(): void {
    this.stats.inFlight--;
  }

  /** One JSON multi call whose app and key class the host has checked. */
  async handle(callNo: number, c: MultiCall, extraDelayMs: number, loseAnswer: boolean): Promise<void> {
    const { body } = c;
    if (!c.production) {
      this.stats.refused++;
      return c.fail(401, 'Invalid access key: track requires the Production key');
    }
    if (body['devMode'] === true || body['devMode'] === 'true') {
      this.stats.refused++;
      return c.fail(400, 'Development mode requested but not permitted');
    }
    const data = body['data'];
    if (!Array.isArray(data)) return c.fail(400, 'data must be an array of actions');
    const sendTime = body['time'];
    if (sendTime !== undefined && (typeof sendTime !== 'number' || !Number.isFinite(sendTime)))
      return c.fail(400, 'Invalid time: the top-level time must be a number of seconds');
    this.stats.actionsReceived += data.length;

    const users = new Set<string>();
    for (const a of data) {
      const u = a !== null && typeof a === 'object' ? (a as Action)['userId'] : undefined;
      if (typeof u === 'string' && u !== '') users.add(u);
    }
    if (data.length > MAX_ACTIONS || users.size > MAX_USERS) {
      this.stats.status403++;
      return c.fail(403, `Batch too large: ${data.length} actions, ${users.size} users (at most ${MAX_ACTIONS} actions and ${MAX_USERS} users)`);
    }

    // strict device locking: a user already inside a running call → 429 for this whole call
    let shared: string[] | undefined;
    for (const u of users) if (this.usersInFlight.has(u)) (shared ??= []).push(u);
    if (shared) {
      this.stats.status429++;
      this.stats.lockConflicts++;
      if (this.conflicts.length < 1000) this.conflicts.push({ call: callNo, users: shared });
      return c.fail(429, `Too many concurrent requests for user ${shared[0]} (strict device locking)`);
    }
    for (const u of users) this.usersInFlight.add(u);
    if (this.usersInFlight.size > this.stats.maxUsersInFlight) this.stats.maxUsersInFlight = this.usersInFlight.size;
    try {
      const out = new Array<unknown>(data.length);
      for (let i = 0; i < data.length; i++) out[i] = this.one(callNo, i, data[i], c.now);
      this.stats.answered++;
      this.stats.billableLookups += users.size;
      // the added latency is the time from arrival to answer, the simulator's own work included, so a
      // bench's "concurrency × 500 / latency" ceiling is not lowered by it (the users stay locked)
      const wait = c.arrivedAt + this.latencyMs + extraDelayMs - performance.now();
      if (wait > 0) await sleep(wait);
      if (loseAnswer) {
        this.stats.answersLost++;
        c.req.socket.destroy();
        return;
      }
      if (this.reorderAnswers) out.reverse();
      if (this.record !== 'counts') this.callLog.push({ call: callNo, users: [...users], arrivedAt: c.arrivedAt, answeredAt: performance.now() });
      const text = JSON.stringify({ response: out });
      c.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      c.res.end(text);
    } finally {
      for (const u of users) this.usersInFlight.delete(u);
    }
  }

  /** One action: checked, deduped, applied; its answer. */
  private one(callNo: number, index: number, raw: unknown, now: number): unknown {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return this.failed('Each action must be a JSON object', undefined);
    const a = raw as Action;
    const reqId = typeof a['reqId'] === 'string' ? (a['reqId'] as string) : undefined;
    const uuid = typeof a['uuid'] === 'string' ? (a['uuid'] as string) : undefined;
    const keyed = this.record !== 'counts' && reqId !== undefined && uuid !== undefined;
    if (keyed && this.seen.get(uuid)?.has(reqId) === true) {
      this.stats.duplicates++;
      return this.answer(undefined, reqId);
    }
    const kind = a['action'];
    let problem: string | undefined;
    let warning: string | undefined;
    if (kind === 'track') {
      problem = checkTrack(a);
      if (problem === undefined) {
        const age = now - (a['time'] as number);
        if (age > YEAR_WINDOW) warning = `Past event detected (${Math.floor(age / DAY)} days ago). Rewriting timestamp.`;
      }
    } else if (kind === 'setUserAttributes') problem = checkSetUserAttributes(a);
    else if (kind === undefined) problem = 'action is required';
    else problem = `Unknown action: ${String(kind)}`;
    if (problem === undefined && this.failWhen) problem = this.failWhen(a);
    if (problem !== undefined) return this.failed(problem, reqId);

    this.stats.applied++;
    if (keyed) {
      let ids = this.seen.get(uuid);
      if (!ids) this.seen.set(uuid, (ids = new Set()));
      ids.add(reqId);
    }
    if (this.record === 'all') this.apply(callNo, index, a, kind as string, uuid, reqId);
    if (warning === undefined) return this.answer(undefined, reqId);
    this.stats.warned++;
    return this.answer(warning, reqId);
  }

  private answer(warning: string | undefined, reqId: string | undefined): unknown {
    if (warning === undefined) return this.echoReqId && reqId !== undefined ? { success: true, reqId } : SUCCESS;
    return this.echoReqId && reqId !== undefined ? { success: true, warning: { message: warning }, reqId } : { success: true, warning: { message: warning } };
  }

  private failed(message: string, reqId: string | undefined): unknown {
    this.stats.failed++;
    return this.echoReqId && reqId !== undefined ? { success: false, error: { message }, reqId } : { success: false, error: { message } };
  }

  private apply(callNo: number, index: number, a: Action, kind: string, uuid: string | undefined, reqId: string | undefined): void {
    const userId = a['userId'] as string;
    let list = this.applied.get(userId);
    if (!list) this.applied.set(userId, (list = []));
    const time = typeof a['time'] === 'number' ? (a['time'] as number) : undefined;
    const event = kind === 'track' ? (a['event'] as string) : undefined;
    list.push({ call: callNo, index, action: kind, userId, uuid, reqId, time, event, data: a });
    if (kind === 'track') addEvent(userState(this.users, userId), event as string, 1, typeof a['value'] === 'number' ? (a['value'] as number) : 0, time, time);
    else applySetUserAttributes(this.users, a);
  }
}

/** The user's state in `users`, made empty on first sight. */
export function userState(users: Map<string, UserState>, userId: string): UserState {
  let st = users.get(userId);
  if (!st) users.set(userId, (st = { attributes: {}, events: {}, fields: {} }));
  return st;
}

function addEvent(st: UserState, name: string, count: number, value: number, first: number | undefined, last: number | undefined): void {
  const e = (st.events[name] ??= { count: 0, value: 0, firstTime: undefined, lastTime: undefined });
  e.count += count;
  e.value += value;
  if (first !== undefined && (e.firstTime === undefined || first < e.firstTime)) e.firstTime = first;
  if (last !== undefined && (e.lastTime === undefined || last > e.lastTime)) e.lastTime = last;
}

/** The fields of a setUserAttributes action besides the attribute maps and events. */
const USER_FIELDS_NUMBER = ['created', 'lastActive', 'timezoneOffsetSeconds'] as const;
const USER_FIELDS_TEXT = ['locale', 'country', 'region', 'city', 'timezone'] as const;

/** A setUserAttributes action that checkSetUserAttributes passed, applied to its user's state. */
export function applySetUserAttributes(users: Map<string, UserState>, a: Action): void {
  const st = userState(users, a['userId'] as string);
  for (const f of [...USER_FIELDS_NUMBER, ...USER_FIELDS_TEXT]) if (a[f] !== undefined) st.fields[f] = a[f] as string | number;
  const attrs = a['userAttributes'] as Record<string, unknown> | undefined;
  if (attrs) for (const [k, v] of Object.entries(attrs)) v === null ? delete st.attributes[k] : (st.attributes[k] = v);
  const add = a['userAttributeValuesToAdd'] as Record<string, unknown> | undefined;
  if (add)
    for (const [k, v] of Object.entries(add)) {
      const cur = Array.isArray(st.attributes[k]) ? (st.attributes[k] as unknown[]) : [];
      const next = [...cur];
      for (const x of Array.isArray(v) ? v : [v]) if (!next.includes(x)) next.push(x);
      st.attributes[k] = next;
    }
  const remove = a['userAttributeValuesToRemove'] as Record<string, unknown> | undefined;
  if (remove)
    for (const [k, v] of Object.entries(remove)) {
      const gone = Array.isArray(v) ? v : [v];
      if (Array.isArray(st.attributes[k])) st.attributes[k] = (st.attributes[k] as unknown[]).filter((x) => !gone.includes(x));
    }
  const inc = a['userAttributeValuesToIncrement'] as Record<string, number> | undefined;
  if (inc) for (const [k, v] of Object.entries(inc)) st.attributes[k] = (typeof st.attributes[k] === 'number' ? (st.attributes[k] as number) : 0) + v;
  const events = a['events'] as Record<string, Record<string, number | undefined>> | undefined;
  if (events)
    for (const [name, e] of Object.entries(events)) {
      // U: the fields sent replace the stored aggregate; the …Increment fields add (see the top)
      const agg = (st.events[name] ??= { count: 0, value: 0, firstTime: undefined, lastTime: undefined });
      if (e['count'] !== undefined) agg.count = e['count'];
      if (e['value'] !== undefined) agg.value = e['value'];
      if (e['firstTime'] !== undefined) agg.firstTime = e['firstTime'];
      if (e['lastTime'] !== undefined) agg.lastTime = e['lastTime'];
      if (e['countIncrement'] !== undefined) agg.count += e['countIncrement'];
      if (e['valueIncrement'] !== undefined) agg.value += e['valueIncrement'];
    }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function checkUserId(a: Action): string | undefined {
  const u = a['userId'];
  if (u === undefined || u === null || u === '') return 'userId is required';
  if (typeof u !== 'string') return `userId must be a string, got ${typeof u}`;
  if (u.length > USER_ID_MAX_CHARS && chars(u) > USER_ID_MAX_CHARS) return `userId is longer than ${USER_ID_MAX_CHARS} characters`;
  return undefined;
}

/** A track action against the documented rules; the reason it is refused, or undefined. */
function checkTrack(a: Action): string | undefined {
  const u = checkUserId(a);
  if (u) return u;
  const event = a['event'];
  if (event === undefined || event === null || event === '') return 'event is required';
  if (typeof event !== 'string') return `Invalid event name: must be a string, got ${typeof event}`;
  const eventProblem = badNameCached(event);
  if (eventProblem) return `Invalid event name: ${eventProblem}`;
  const params = a['params'];
  if (params !== undefined) {
    if (!isObject(params)) return 'params must be a JSON object';
    let n = 0;
    for (const name in params) {
      const p = badNameCached(name);
      if (p) return `Invalid parameter name ${JSON.stringify(name)}: ${p}`;
      const v = params[name];
      const t = typeof v;
      if (t !== 'string' && t !== 'boolean' && !isNum(v))
        return `Invalid value for parameter ${JSON.stringify(name)}: must be a string, number or boolean, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : t}`;
      n++;
    }
    if (n > PARAMS_PER_EVENT_MAX) return `Too many parameters: ${n} (at most ${PARAMS_PER_EVENT_MAX})`;
  }
  const time = a['time'];
  if (time === undefined) return 'time is required';
  if (!isNum(time)) return `Invalid time: must be a number of seconds, got ${JSON.stringify(time)}`;
  const value = a['value'];
  if (value !== undefined && !isNum(value)) return `Invalid value: must be a number, got ${JSON.stringify(value)}`;
  // ISO 4217 codes are three capital letters; whether the code is assigned is not checked here
  const currency = a['currencyCode'];
  if (currency !== undefined && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))) return `Invalid currencyCode: ${JSON.stringify(currency)}`;
  return undefined;
}

const EVENT_FIELDS = new Set(['count', 'value', 'firstTime', 'lastTime', 'countIncrement', 'valueIncrement']);

function attributeValueProblem(name: string, v: unknown): string | undefined {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || isNum(v)) return undefined;
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string' || isNum(x))) return undefined;
    return `Invalid value for attribute ${JSON.stringify(name)}: list items must be strings or numbers`;
  }
  return `Invalid value for attribute ${JSON.stringify(name)}: must be a string, number, boolean, null or list, got ${typeof v}`;
}

/** A setUserAttributes action against the documented fields; the reason it is refused, or undefined. */
export function checkSetUserAttributes(a: Action): string | undefined {
  const u = checkUserId(a);
  if (u) return u;
  const attrs = a['userAttributes'];
  if (attrs !== undefined) {
    if (!isObject(attrs)) return 'userAttributes must be a JSON object';
    for (const name in attrs) {
      if (name === '') return 'Invalid attribute name: must not be empty';
      // U: the name rules are documented for events and parameters; assumed for attributes too
      const n = badNameCached(name);
      if (n) return `Invalid attribute name ${JSON.stringify(name)}: ${n}`;
      const p = attributeValueProblem(name, attrs[name]);
      if (p) return p;
    }
  }
  for (const field of ['userAttributeValuesToAdd', 'userAttributeValuesToRemove']) {
    const m = a[field];
    if (m === undefined) continue;
    if (!isObject(m)) return `${field} must be a JSON object`;
    for (const name in m) {
      const v = m[name];
      const items = Array.isArray(v) ? v : [v];
      if (!items.every((x) => typeof x === 'string' || isNum(x))) return `Invalid ${field} for ${JSON.stringify(name)}: values must be strings or numbers`;
    }
  }
  const inc = a['userAttributeValuesToIncrement'];
  if (inc !== undefined) {
    if (!isObject(inc)) return 'userAttributeValuesToIncrement must be a JSON object';
    for (const name in inc) if (!Number.isInteger(inc[name])) return `Invalid userAttributeValuesToIncrement for ${JSON.stringify(name)}: must be an integer`;
  }
  const events = a['events'];
  if (events !== undefined) {
    if (!isObject(events)) return 'events must be a JSON object of event name → {count, value, firstTime, lastTime}';
    for (const name in events) {
      const p = badNameCached(name);
      if (p) return `Invalid event name ${JSON.stringify(name)}: ${p}`;
      const e = events[name];
      if (!isObject(e)) return `Invalid events entry ${JSON.stringify(name)}: must be an object`;
      const { count, value, firstTime, lastTime, countIncrement, valueIncrement } = e;
      for (const k in e)
        if (!EVENT_FIELDS.has(k))
          return `Invalid events entry ${JSON.stringify(name)}: unknown field ${JSON.stringify(k)} (count, value, firstTime, lastTime, countIncrement, valueIncrement)`;
      if (count !== undefined && !(Number.isInteger(count) && (count as number) >= 0))
        return `Invalid events entry ${JSON.stringify(name)}: count must be a whole number ≥ 0`;
      if (countIncrement !== undefined && !Number.isInteger(countIncrement))
        return `Invalid events entry ${JSON.stringify(name)}: countIncrement must be a whole number`;
      if (value !== undefined && !isNum(value)) return `Invalid events entry ${JSON.stringify(name)}: value must be a number`;
      if (valueIncrement !== undefined && !isNum(valueIncrement)) return `Invalid events entry ${JSON.stringify(name)}: valueIncrement must be a number`;
      if (firstTime !== undefined && !isNum(firstTime)) return `Invalid events entry ${JSON.stringify(name)}: firstTime must be a number of seconds`;
      if (lastTime !== undefined && !isNum(lastTime)) return `Invalid events entry ${JSON.stringify(name)}: lastTime must be a number of seconds`;
      if (isNum(firstTime) && isNum(lastTime) && firstTime > lastTime) return `Invalid events entry ${JSON.stringify(name)}: firstTime is after lastTime`;
    }
  }
  for (const field of USER_FIELDS_NUMBER) {
    const v = a[field];
    if (v !== undefined && !isNum(v)) return `Invalid ${field}: must be a number`;
    // U: whole seconds (see the top)
    if (v !== undefined && field !== 'timezoneOffsetSeconds' && !Number.isInteger(v)) return `Invalid ${field}: must be whole UNIX seconds, got ${v}`;
  }
  for (const field of USER_FIELDS_TEXT) {
    const v = a[field];
    if (v !== undefined && typeof v !== 'string') return `Invalid ${field}: must be a string`;
  }
  return undefined;
}
