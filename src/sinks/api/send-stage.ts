import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSourceLines } from '../../transform/line-index.js';
import { csvLine } from '../../transform/csv-line.js';
import { BackfillError } from '../../errors.js';
import { CLOCK_SKEW_WARNING, PAST_EVENT_WARNING, TIME_SKEW_WARNING } from '../../leanplum/contract.js';
import type { MultiClient, MultiOutcome } from '../../leanplum/multi-client.js';
import type { Manifest } from '../../model/manifest.js';
import { kindOfOptions } from '../../model/kinds.js';
import type { RunLock } from '../../run/lock.js';
import type { Log } from '../../run/log.js';
import { saveManifest } from '../../run/manifest.js';
import { clampIsStale } from '../../run/run-machine.js';
import { type RowActions, rowActions } from './actions.js';
import { BatchPacker, batchUuidOf, mayStart, reqIdOf, type Batch } from './batch-packer.js';
import { type CleanRow, cleanRows } from './clean-rows.js';
import { maySend } from './send-gates.js';
import { canaryFacts, canaryStopped, readServerRejects, recordCanary } from '../canary.js';
import { canaryVerdict } from '../../run/canary-gate.js';
import { type LedgerMirror, syncMirror } from './ledger-mirror.js';
import { type Flagged, LEDGER_FILE, type LedgerEntry, type LedgerView, LedgerWriter, readLedger, replay, unknownBatches, unknownToken } from './send-ledger.js';

export interface SendOptions {
  apiUrl: string;
  appId: string;
  /** requests in flight at once (never two sharing a user) */
  concurrency: number;
  /** at most this many POSTs (attempts included) per second */
  maxRps: number | undefined;
  now: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** tokens naming the unknown state whose batches are to be sent again (identical actions) */
  resendUnknown: readonly string[];
  /** tokens naming the unknown state whose batches are to be recorded as unknown and left */
  skipUnknown: readonly string[];
  /** how the printed advice names this command (e.g. `lp-backfill send <dir> --app-id …`) */
  command: string;
  /** --state-to: the ledger mirrored to GCS (ledger-mirror.ts); each POST waits for its `send` line there */
  mirror?: LedgerMirror | undefined;
  /** failed rows + "Past event detected" warnings the canary's batches may come back with (issue 20; default 0) */
  canaryMaxFailures?: number;
}

/** results/summary.json of the API sink. */
export interface ApiSendSummary {
  sink: 'api';
  batches: number;
  /** actions sent and answered */
  sent: number;
  ok: number;
  warned: number;
  failed: number;
  /** per-action messages (warnings and errors), by their shape ("(N days ago)") */
  byMessage: Record<string, number>;
  pastEventWarnings: number;
  clockSkewWarnings: number;
  timeSkewWarnings: number;
  /** Σ distinct users over the batches sent (answered or unknown): what Leanplum bills */
  billableLookups: number;
  /** POSTs, first attempts and retries */
  requests: number;
  retries: number;
  /** batches recorded as unknown with --skip-unknown: their rows may or may not be in Leanplum */
  unknownSkipped: { batches: number; rows: number };
  /** answers matched by echoed reqId or by position */
  redirects: { from: string; to: string }[];
  /** a rerun of a completed send: nothing was sent by this command (the figures are the earlier send's) */
  alreadyComplete?: true;
}

interface Built {
  /** the `send` line, written when the batch is queued, is durable (and, with a mirror, in GCS) */
  covered?: Promise<void>;
  b: Batch;
  users: Set<string>;
  data: string;
  reqIds: string[];
  hash: string;
}

const messageShape = (m: string) => m.replace(/\(\d+ days? (ago|behind)\)/, '(N days $1)');

/**
 * The API sink's send: reads the clean rows in order, packs them into batches (batch-packer.ts),
 * skips what the ledger says is answered, and POSTs the rest with up to `concurrency` calls in
 * flight, never two sharing a user, each `send` durable in the ledger before its POST and each
 * answer durable before it counts. Stops (finishing what is in flight) at the first batch that is
 * refused or whose outcome is unknown, or when the clamp goes stale.
 */
export async function sendStage(lock: RunLock, m: Manifest, client: MultiClient, o: SendOptions, log: Log): Promise<ApiSendSummary> {
  const dir = lock.dir;
  const refused = maySend(m, dir, o);
  if (refused !== undefined) throw refused;
  const t = m.transform!;
  if (lock.mirror !== undefined && o.mirror === undefined)
    throw new BackfillError(
      'STAGE_REFUSED',
      `the state of ${dir} lives in ${lock.mirror.url}, but its send ledger would stay on this disk only: a retried task would send answered batches again`,
      'A bug in lp-backfill: the caller must pass the ledger mirror (send-state.ts sendMirrorFor).',
    );
  if (o.mirror !== undefined) await syncMirror(dir, o.mirror, log);
  const before = await readLedger(dir);
  const view = replay(before);
  const unknown = unknownBatches(view);
  const token = unknownToken(view);
  const asked = [...o.resendUnknown, ...o.skipUnknown];
  if (o.resendUnknown.length > 0 && o.skipUnknown.length > 0) {
    throw new BackfillError('CONFIG_INVALID', 'resend-unknown and skip-unknown: give one of them, not both', 'Decide per unknown state: resend, or skip.');
  }
  if (asked.length > 0 && (token === undefined || !asked.includes(token))) {
    throw new BackfillError(
      'STAGE_REFUSED',
      `--${o.resendUnknown.length > 0 ? 'resend' : 'skip'}-unknown ${asked.join(' ')} names an older state of this run: ${token === undefined ? 'no batch is unknown now' : `the batches unknown now are ${unknown.join(', ')} (state ${token})`}`,
      token === undefined
        ? `Drop the flag: \`${o.command}\`.`
        : 'A command repeated from the shell history would send those batches once more. Read the message of the last run, then use the state it names.',
    );
  }
  if (unknown.length > 0 && token !== undefined && !asked.includes(token)) throw unknownError(view, unknown, token, o.command);
  const done = m.send?.completedAt !== undefined;
  if (!done && clampIsStale(t, o.now())) throw staleError(t, view);

  m.sink = 'api';
  m.leanplum = { appId: o.appId, apiUrl: o.apiUrl };
  m.send = { ...m.send, startedAt: m.send?.startedAt ?? o.now().toISOString() };
  await saveManifest(lock, m, o.now());

  const writer = await LedgerWriter.open(dir);
  writer.mirror = o.mirror;
  try {
    for (const n of unknown) {
      const at = o.now().toISOString();
      if (o.resendUnknown.includes(token!)) await writer.append({ e: 'resend', n, at, token: token! });
      else await writer.append({ e: 'skip', n, at, token: token! });
      view.batches.get(n)!.state = o.resendUnknown.includes(token!) ? 'resend' : 'skipped';
    }
    if (unknown.length > 0)
      log(
        'unknown',
        { batches: unknown, action: o.resendUnknown.length > 0 ? 'resend' : 'skip' },
        `unknown    ${unknown.length} batch(es) ${o.resendUnknown.length > 0 ? 'sent again with the same actions' : 'recorded as unknown and left'}`,
      );
    const stopped = await pump(dir, m, client, o, log, view, writer, canaryJudge(lock, m, o, log));
    await writer.close();
    const after = await readLedger(dir);
    const finalView = replay(after);
    if (stopped !== undefined) {
      const still = unknownBatches(finalView);
      if (still.length > 0) throw unknownError(finalView, still, unknownToken(finalView)!, o.command, stopped);
      throw stopped;
    }
    const summary = await writeResults(dir, m, finalView);
    m.send = { ...m.send, completedAt: m.send.completedAt ?? o.now().toISOString(), batches: summary.batches, billableLookups: summary.billableLookups };
    await saveManifest(lock, m, o.now());
    // completed before, and no line added to the send ledger: not one call was made
    return done && after.length === before.length ? { ...summary, alreadyComplete: true } : summary;
  } finally {
    await writer.close().catch(() => undefined);
  }
}

/**
 * The canary's gate (issue 20): once every batch of the canary's part (part 1) is answered, and
 * before any other batch is sent, its failed rows and "Past event detected" warnings (this run's
 * and earlier runs' answers, from the ledger) are judged against --canary-max-failures. Returns the
 * stop (exit 5), or undefined to go on. undefined: the run has no canary.
 */
function canaryJudge(lock: RunLock, m: Manifest, o: SendOptions, log: Log): CanaryJudge | undefined {
  const part = m.parts[0];
  if (part?.canary !== true) return undefined;
  const max = o.canaryMaxFailures ?? 0;
  return {
    rows: part.rows,
    judge: async (view) => {
      // the rest was sent already (an allowance let it go on): that verdict holds; judging it again
      // with a lower one would say "stopped, nothing else was sent" of rows that are in Leanplum
      for (const b of view.batches.values()) if (b.send.first >= part.rows) return undefined;
      let failedRows = 0;
      let pastEventWarnings = 0;
      // rows of canary calls whose answer was lost and that were left (--skip-unknown): no evidence
      // either way, so they count against the allowance as failed rows would
      let unknownRows = 0;
      for (const b of view.batches.values()) {
        if (b.send.first >= part.rows) continue;
        if (b.state === 'skipped') unknownRows += b.send.rows;
        if (b.state !== 'answered') continue;
        failedRows += b.answer!.failed;
        pastEventWarnings += b.answer!.flagged.filter((f) => f[1] === 'w' && PAST_EVENT_WARNING.test(f[2])).length;
      }
      const verdict = canaryVerdict({ failedRows: failedRows + unknownRows, pastEventWarnings }, max);
      const judged = { part: part.file, verdict, failedRows, pastEventWarnings, maxFailures: max, ...(unknownRows > 0 ? { unknownRows } : {}) };
      await recordCanary(lock, m, judged, o.now, log);
      if (judged.verdict === 'passed') return undefined;
      // the canary's answers, each failed or warned row with its source line, into server-rejects.csv
      await writeResults(lock.dir, m, view);
      const { rows, total } = await readServerRejects(lock.dir, part.file, 10);
      const shown = rows.map((r) => ({
        where: `${r.part} row ${r.row}`,
        sourceFile: r.sourceFile,
        sourceLine: r.sourceLine,
        message: `${r.kind}: ${r.message}`,
      }));
      const goOn = `\`${o.command} --canary-max-failures ${failedRows + pastEventWarnings + unknownRows}\``;
      return canaryStopped(lock.dir, { ...judged, ...(await canaryFacts(lock.dir)) }, { shown, total }, goOn, 'api', m.stateUrl);
    },
  };
}

interface CanaryJudge {
  /** the canary part's rows: the first `rows` clean rows */
  rows: number;
  judge: (view: LedgerView) => Promise<BackfillError | undefined>;
}

function unknownError(view: LedgerView, ns: number[], token: string, command: string, cause?: Error): BackfillError {
  const rows = ns.reduce((s, n) => s + view.batches.get(n)!.send.rows, 0);
  const list = ns.length > 8 ? `${ns.slice(0, 8).join(', ')} … (${ns.length} in all)` : ns.join(', ');
  const why = cause === undefined ? '' : ` (${cause.message})`;
  return new BackfillError(
    'SEND_UNKNOWN',
    `${ns.length} batch(es) (${rows} row(s)) were sent but no answer came back: Leanplum may or may not hold them. Batch(es) ${list}${why}`,
    `Either send exactly those batches again with identical actions (same uuid and reqIds; Leanplum's SDKs rely on them to drop duplicates, which is not documented for this API): \`${command} --resend-unknown ${token}\`. Or record them as unknown and finish the rest: \`${command} --skip-unknown ${token}\`. Answered batches are never sent again.`,
    cause === undefined ? undefined : { cause },
  );
}

/** Minimum spacing of POST starts for --max-rps. */
class Pacer {
  private next = 0;
  constructor(
    private readonly rps: number | undefined,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  async take(): Promise<void> {
    if (this.rps === undefined) return;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.rps;
    if (at > now) await this.sleep(at - now);
  }
}

/** The read → pack → build → send loop. Resolves with the reason it stopped early, or undefined. */
async function pump(
  dir: string,
  m: Manifest,
  client: MultiClient,
  o: SendOptions,
  log: Log,
  view: LedgerView,
  writer: LedgerWriter,
  canary: CanaryJudge | undefined,
): Promise<BackfillError | undefined> {
  const runId = m.runId;
  const t = m.transform!;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pacer = new Pacer(o.maxRps, sleep);
  const concurrency = Math.max(1, o.concurrency);
  // events: a track action per row; users and totals: a setUserAttributes action per row (= user)
  const kind = kindOfOptions(m.transform?.options);
  const columns = kind === 'events' ? null : await summaryColumns(dir);
  let layout: RowActions | undefined;
  // rows read and not yet in a batch: pending[head…] (the consumed front is dropped once in a while, not per batch)
  let pending: CleanRow[] = [];
  let head = 0;
  const ready: Built[] = [];
  const closed: Batch[] = [];
  const packer = new BatchPacker((b) => closed.push(b));
  const inFlight = new Map<number, Set<string>>();
  const running = new Set<Promise<void>>();
  let stop: BackfillError | undefined;
  let sentBatches = 0;
  let lastLog = Date.now();

  const build = (b: Batch): Built => {
    const from = head;
    head += b.rows;
    const uuid = batchUuidOf(runId, b.n);
    const users = new Set<string>();
    const reqIds: string[] = [];
    let data = '[';
    for (let k = 0; k < b.rows; k++) {
      const r = pending[from + k]!;
      pending[from + k] = undefined as unknown as CleanRow;
      const reqId = reqIdOf(runId, r.file, r.line, r.index);
      reqIds.push(reqId);
      users.add(r.fields[layout!.userId]!);
      data += (k === 0 ? '' : ',') + layout!.json(r.fields, reqId, uuid);
    }
    data += ']';
    return { b, users, data, reqIds, hash: createHash('sha256').update(data).digest('hex').slice(0, 32) };
  };

  const record = async (x: Built, out: MultiOutcome): Promise<void> => {
    const at = o.now().toISOString();
    if (out.kind === 'answered') {
      let ok = 0;
      let warned = 0;
      let failed = 0;
      const flagged: Flagged[] = [];
      out.results.forEach((r, i) => {
        if (!r.success) {
          failed++;
          flagged.push([i, 'e', r.error ?? 'failed']);
        } else if (r.warning !== undefined) {
          warned++;
          flagged.push([i, 'w', r.warning]);
        } else ok++;
      });
      await writer.append({ e: 'answer', n: x.b.n, at, attempts: out.attempts, ok, warned, failed, flagged });
      const past = flagged.filter((f) => f[1] === 'w' && PAST_EVENT_WARNING.test(f[2])).length;
      if (past > 0)
        log(
          'past-event',
          { batch: x.b.n, rows: past },
          `WARNING    batch ${x.b.n}: ${past} row(s) "Past event detected": Leanplum filed them at the time of sending`,
        );
    } else if (out.kind === 'refused') {
      await writer.append({ e: 'refused', n: x.b.n, at, attempts: out.attempts, message: out.message });
    } else {
      await writer.append({ e: 'unknown', n: x.b.n, at, attempts: out.attempts, message: out.message });
    }
  };

  const launch = (x: Built): void => {
    inFlight.set(x.b.n, x.users);
    const p = (async () => {
      try {
        await pacer.take();
        if (stop === undefined && clampIsStale(t, o.now())) stop ??= staleError(t, view);
        if (stop !== undefined) {
          if (x.covered !== undefined) await unsent(x);
          return;
        }
        if (x.covered !== undefined) await x.covered;
        else await writer.append(sendEntry(x));
        const from = client.endpoint;
        const out = await client.send(x.data, x.reqIds);
        // the call is over: its users and its slot are free before its answer is made durable (the
        // answer counts only once it is; a crash in between leaves the batch unknown, as it should)
        if (out.kind === 'refused') stop ??= refusedError(out, x.b);
        else if (out.kind === 'unknown') stop ??= new BackfillError('SEND_UNKNOWN', `batch ${x.b.n}: ${out.message}`);
        inFlight.delete(x.b.n);
        dispatch();
        if (client.endpoint !== from) {
          await writer.append({ e: 'redirect', at: o.now().toISOString(), from, to: client.endpoint });
          log(
            'redirect',
            { from, to: client.endpoint },
            `redirect   Leanplum moved this app's API to ${client.endpoint} (was ${from}); followed once, over https`,
          );
        }
        await record(x, out);
        sentBatches++;
        if (Date.now() - lastLog > 2000) {
          lastLog = Date.now();
          log(
            'progress',
            { batches: sentBatches, requests: client.requests },
            `sending    ${sentBatches} batch(es) answered this run, ${client.requests} request(s)`,
          );
        }
      } catch (e) {
        stop ??= e instanceof BackfillError ? e : new BackfillError('IO_FAILED', `send: ${(e as Error).message}`, undefined, { cause: e });
      } finally {
        inFlight.delete(x.b.n);
      }
    })();
    running.add(p);
    void p.finally(() => running.delete(p));
  };

  /** Starts what may start: in order, up to the concurrency, never beside a batch sharing a user. */
  const dispatch = (): void => {
    while (stop === undefined && ready.length > 0 && inFlight.size < concurrency && mayStart(ready[0]!.users, inFlight.values())) launch(ready.shift()!);
  };
  const waitOne = async (): Promise<void> => {
    if (running.size > 0) await Promise.race(running);
    dispatch();
  };

  const sendEntry = (x: Built): LedgerEntry => ({
    e: 'send',
    n: x.b.n,
    first: x.b.first,
    rows: x.b.rows,
    users: x.b.users,
    hash: x.hash,
    at: o.now().toISOString(),
  });
  /** a batch whose `send` was written ahead but whose POST never started */
  const unsent = (x: Built) => writer.append({ e: 'unsent', n: x.b.n, at: o.now().toISOString() }).catch(() => undefined);
  // batches queued ahead of the calls in flight (a GCS round trip needs more of them than an fsync)
  const ahead = concurrency * (o.mirror === undefined ? 2 : 16);

  /** A batch the packer closed: compared with the ledger, then queued to send or passed over. */
  const take = async (b: Batch): Promise<void> => {
    const x = build(b);
    const rec = view.batches.get(b.n);
    if (rec !== undefined && (rec.send.first !== b.first || rec.send.rows !== b.rows || rec.send.hash !== x.hash)) {
      throw new BackfillError(
        'STAGE_REFUSED',
        `batch ${b.n} is no longer what was sent (the ledger has rows ${rec.send.first}+${rec.send.rows}, the clean output now gives ${b.first}+${b.rows}${rec.send.hash === x.hash ? '' : ', other actions'})`,
        `The clean output of ${dir} changed after sending began; it must not. Restore it, or ask for help: the ledger (${LEDGER_FILE}) says what Leanplum holds.`,
      );
    }
    if (rec !== undefined && (rec.state === 'answered' || rec.state === 'skipped')) return;
    // the `send` line is written (and mirrored) as the batch is queued, ahead of its POST: its fsync
    // (and GCS write) is then off the path between one call's answer and the next call's POST
    x.covered = writer.append(sendEntry(x), true);
    x.covered.catch(() => undefined);
    ready.push(x);
    dispatch();
    if (head > 4096 && head * 2 > pending.length) {
      pending = pending.slice(head);
      head = 0;
    }
    while (stop === undefined && ready.length >= ahead) await waitOne();
    // building a batch is a few ms of work: let answers that came meanwhile free their slots now,
    // not after the rest of the chunk (the calls in flight would wait idle for it)
    if (running.size > 0) await new Promise<void>((r) => setImmediate(r));
  };

  try {
    for await (const chunk of cleanRows(
      dir,
      m.parts.map((p) => p.file),
      (h) => (layout = rowActions(kind, h, columns)),
    )) {
      for (const r of chunk) {
        if (canary !== undefined && r.index === canary.rows) {
          // the canary's last batch closes here (no call mixes canary users and others); every
          // canary batch is answered, and judged, before any other batch is built
          packer.end();
          while (closed.length > 0) await take(closed.shift()!);
          while (stop === undefined && ready.length > 0) await waitOne();
          while (running.size > 0) await Promise.race(running);
          if (stop === undefined) stop = await canary.judge(replay(await readLedger(dir)));
          if (stop !== undefined) break;
        }
        pending.push(r);
        packer.rows(r.fields[layout!.userId]!);
        while (closed.length > 0) await take(closed.shift()!);
        if (stop !== undefined) break;
      }
      if (stop !== undefined) break;
    }
    if (stop === undefined) {
      packer.end();
      while (closed.length > 0) await take(closed.shift()!);
    }
    while (stop === undefined && ready.length > 0) await waitOne();
  } catch (e) {
    stop ??= e instanceof BackfillError ? e : new BackfillError('IO_FAILED', `send: ${(e as Error).message}`, undefined, { cause: e });
  }
  // what is in flight finishes and is recorded, whatever stopped the rest
  while (running.size > 0) await Promise.race(running);
  for (const x of ready.splice(0)) if (x.covered !== undefined) await unsent(x);
  return stop;
}

/** summary.json `columns` of the transform: the clean CSV's column types (kinds users and totals). */
async function summaryColumns(dir: string): Promise<{ name: string; type: string }[] | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'summary.json'), 'utf8');
  } catch (e) {
    throw new BackfillError(
      'INPUT_MALFORMED',
      `${dir}/summary.json cannot be read (${(e as Error).message}): it holds the column types the send needs`,
      'Transform again into this directory.',
    );
  }
  let columns: unknown;
  try {
    columns = (JSON.parse(text) as { columns?: unknown }).columns;
  } catch (e) {
    throw new BackfillError('INPUT_MALFORMED', `${dir}/summary.json is not JSON (${(e as Error).message})`, 'Transform again into this directory.');
  }
  if (columns === undefined || columns === null) return null;
  if (!Array.isArray(columns) || !columns.every((c) => typeof c?.name === 'string' && typeof c?.type === 'string'))
    throw new BackfillError('INPUT_MALFORMED', `${dir}/summary.json: columns is not a list of {name, type}`, 'Transform again into this directory.');
  return columns as { name: string; type: string }[];
}

/** The clamp holds only until T + --max-delay: no batch is sent after that. */
function staleError(t: NonNullable<Manifest['transform']>, view: LedgerView): BackfillError {
  const answered = [...view.batches.values()].filter((b) => b.state === 'answered').length;
  return new BackfillError(
    'CLAMP_STALE',
    `the clamp of this run is stale: it was computed for import time ${t.importAt} and is only safe until ${t.staleAfter}; no batch is sent after that${answered > 0 ? ` (${answered} batch(es) were answered before and are in Leanplum)` : ''}`,
    answered > 0
      ? 'The rows not sent yet need a new clamp. Do not send the whole input again into a new run: the answered rows would arrive twice. See docs/api-sink.md, "A stale clamp".'
      : 'Nothing was sent: transform again (into this directory or a new --out) so old events are clamped for the real send time, then send that.',
  );
}

function refusedError(out: Extract<MultiOutcome, { kind: 'refused' }>, b: Batch): BackfillError {
  const msg = out.message;
  let hint = 'Nothing of this batch was applied. Check the message, then run the same command again: answered batches are not sent again.';
  if (msg.includes('Invalid access key'))
    hint = "Check LEANPLUM_PROD_KEY (or --client-key-file): the API sink needs the app's Production key (never the Development key).";
  else if (msg.includes('App not found')) hint = 'Check --app-id.';
  else if (out.status === 403)
    hint = `A 403 means a call over Leanplum's limits (50 users / 500 actions: this batch had ${b.users} / ${b.rows}, so that would be a bug in lp-backfill) or a key or app that may not send; check the key and the app.`;
  else if (out.status === 429) hint = 'Leanplum kept asking to slow down: run the same command again later, perhaps with a lower --concurrency or --max-rps.';
  return new BackfillError('LEANPLUM_FAILED', `Leanplum refused batch ${b.n} (${b.rows} row(s)): ${msg}`, hint);
}

/** results/summary.json and server-rejects.csv (each warned or failed row with its source line and the clean row). */
async function writeResults(dir: string, m: Manifest, view: LedgerView): Promise<ApiSendSummary> {
  const s: ApiSendSummary = {
    sink: 'api',
    batches: view.batches.size,
    sent: 0,
    ok: 0,
    warned: 0,
    failed: 0,
    byMessage: {},
    pastEventWarnings: 0,
    clockSkewWarnings: 0,
    timeSkewWarnings: 0,
    billableLookups: 0,
    requests: 0,
    retries: 0,
    unknownSkipped: { batches: 0, rows: 0 },
    redirects: view.redirects,
  };
  const flagged = new Map<number, { kind: 'error' | 'warning'; message: string }>();
  let sends = 0;
  for (const b of view.batches.values()) {
    s.requests += b.attempts;
    sends += b.sends;
    if (b.state === 'skipped') {
      s.unknownSkipped.batches++;
      s.unknownSkipped.rows += b.send.rows;
      s.billableLookups += b.send.users;
      continue;
    }
    if (b.state !== 'answered') continue;
    const a = b.answer!;
    s.billableLookups += b.send.users;
    s.sent += b.send.rows;
    s.ok += a.ok;
    s.warned += a.warned;
    s.failed += a.failed;
    for (const [i, k, msg] of a.flagged) {
      const key = messageShape(msg);
      s.byMessage[key] = (s.byMessage[key] ?? 0) + 1;
      if (k === 'w') {
        if (PAST_EVENT_WARNING.test(msg)) s.pastEventWarnings++;
        else if (CLOCK_SKEW_WARNING.test(msg)) s.clockSkewWarnings++;
        else if (TIME_SKEW_WARNING.test(msg)) s.timeSkewWarnings++;
      }
      flagged.set(b.send.first + i, { kind: k === 'w' ? 'warning' : 'error', message: msg });
    }
  }
  s.retries = Math.max(0, s.requests - sends);
  await mkdir(join(dir, 'results'), { recursive: true });
  await writeFile(join(dir, 'results', 'summary.json'), JSON.stringify(s, null, 2) + '\n');
  await writeRejects(dir, m, flagged);
  return s;
}

/** server-rejects.csv, the CSV path's columns: part, row in part, source file and line, kind, message, the clean row. */
async function writeRejects(dir: string, m: Manifest, flagged: Map<number, { kind: 'error' | 'warning'; message: string }>): Promise<void> {
  const indices = [...flagged.keys()].sort((a, b) => a - b);
  const origins = await readSourceLines(join(dir, 'clean.lines'), indices);
  const names = m.transform!.units ?? m.transform!.inputs.map((i) => i.name);
  const starts: { file: string; start: number }[] = [];
  let at = 0;
  for (const p of m.parts) {
    starts.push({ file: p.file, start: at });
    at += p.rows;
  }
  let header: string[] = [];
  const rows = new Map<number, string[]>();
  if (indices.length > 0) {
    const want = new Set(indices);
    for await (const chunk of cleanRows(
      dir,
      m.parts.map((p) => p.file),
      (h) => (header = h),
    ))
      for (const r of chunk) if (want.has(r.index)) rows.set(r.index, r.fields);
  } else {
    // the header alone, for an empty file with the right columns
    for await (const _ of cleanRows(dir, m.parts.map((p) => p.file).slice(0, 1), (h) => (header = h))) break;
  }
  let out = csvLine(['part', 'row', 'sourceFile', 'sourceLine', 'kind', 'message', ...header]);
  for (const i of indices) {
    const f = flagged.get(i)!;
    const part = starts.findLast((p) => p.start <= i)!;
    const o = origins.get(i);
    out += csvLine([part.file, String(i - part.start + 1), o ? (names[o.file] ?? '') : '', o ? String(o.line) : '', f.kind, f.message, ...(rows.get(i) ?? [])]);
  }
  await writeFile(join(dir, 'server-rejects.csv'), out);
}

/** Exit codes for what Leanplum answered: "Past event detected" and failed rows are 5, like the CSV path. */
export function judgeSend(s: ApiSendSummary): BackfillError | undefined {
  if (s.pastEventWarnings > 0) {
    return new BackfillError(
      'JOB_ROW_FAILURES',
      `${s.pastEventWarnings} row(s) came back with "Past event detected … Rewriting timestamp": Leanplum filed them at the time of sending. The clamp did not protect them (the send ran later than --max-delay allowed, or a clock was off)`,
      'See server-rejects.csv. Those events now sit at the send time in Leanplum; tell the app owner before anything else.',
    );
  }
  if (s.failed > 0) {
    return new BackfillError(
      'JOB_ROW_FAILURES',
      `${s.failed} row(s) failed inside Leanplum`,
      "See server-rejects.csv for each row, its source line and Leanplum's message.",
    );
  }
  return undefined;
}
