import { createHash } from 'node:crypto';
import { BackfillError } from '../errors.js';
import type { JobState, Manifest, PartStage } from '../model/manifest.js';
import { partStage } from './part-stage.js';

// The import ledger (issue 20): the bucket remembers what was imported, so that the same
// command after a lost run directory (a new laptop, a cleaned CI workspace) does not import every
// event a second time. Pure: the record's rules; run/import-ledger-gcs.ts reads and writes it.

export const LEDGER_SCHEMA_VERSION = 1;

/** What one import is: the same identity twice means the same events into the same app twice. */
export interface IdentityParts {
  appId: string;
  /** what the rows are (events until `--kind` exists) */
  kind: string;
  /** how the first import went in: shown in the record, not part of the hash (importIdentity) */
  sink: 'csv-job' | 'api';
  /** each input's content: the sha256 of its bytes, computed while the transform read it (gs:// objects too) */
  inputs: string[];
  /** the mapping and every transform option by flag name, except the import time */
  options: Record<string, unknown>;
}

/**
 * Options that do not change which rows reach Leanplum, only how they are cut into files or how the
 * run behaves: the import time (a default "now" is not recorded at all), the part size, the order of
 * the rows, the canary's size, the reject-rate stop and the reader's read-ahead and record bound.
 * A rerun after a lost run directory with a larger --max-part-bytes or --canary 0 sends the same
 * events again: exactly the second import the ledger is for, so they must not make a new identity.
 */
export const NOT_IDENTITY = new Set(['import-at', 'max-part-bytes', 'order', 'canary', 'max-reject-rate', 'scan-records', 'max-record-bytes', 'sample']);

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(v: unknown): string {
  const canon = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(canon)
      : x !== null && typeof x === 'object'
        ? Object.fromEntries(
            Object.entries(x)
              .filter(([, y]) => y !== undefined)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, y]) => [k, canon(y)]),
          )
        : x;
  return JSON.stringify(canon(v));
}

/**
 * The parts of a run's identity, from what its manifest recorded at the transform: the app, the
 * sink, the inputs' sha256 (as a sorted list: the same exports named in another order are the same
 * events), the options (the mapping among them; --shard too: each shard is its own import).
 */
export function identityParts(m: Manifest, appId: string, sink: 'csv-job' | 'api'): IdentityParts {
  const t = m.transform;
  if (t === undefined) throw new BackfillError('INTERNAL', `run ${m.runId} has no transform record to take its identity from`);
  const options = Object.fromEntries(Object.entries(t.options).filter(([k]) => !NOT_IDENTITY.has(k)));
  // how each input was read, when the run recorded it: `--format csv` on a file auto reads as CSV
  // (or `--delimiter ,` on a comma file) reads the same rows, so it is the same import
  if (t.inputs.length > 0 && t.inputs.every((i) => i.format !== undefined)) {
    delete options['format'];
    delete options['delimiter'];
    options['read'] = [...t.inputs].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0)).map((i) => `${i.format} ${i.delimiter ?? ''}`);
  }
  const kind = typeof t.options['kind'] === 'string' ? (t.options['kind'] as string) : 'events';
  return { appId, kind, sink, inputs: t.inputs.map((i) => i.sha256).sort(), options };
}

/**
 * sha256 (hex) of the canonical JSON of the identity's parts: the ledger object's name. The sink is
 * recorded (`covers.sink`) but not hashed: the same events sent through the JSON API after a CSV job
 * imported them (or the other way round) are in Leanplum twice all the same.
 */
export function importIdentity(p: IdentityParts): string {
  // the named fields only: a caller's extras (the record's `inputNames`) must not reach the hash,
  // or a renamed or moved copy of the same export would be another import
  const { kind: _k, ...opts } = p.options;
  return createHash('sha256')
    .update(canonicalJson({ appId: p.appId, kind: p.kind, inputs: p.inputs, options: opts }))
    .digest('hex');
}

/** Where a prefix keeps its ledger: `<prefix>/.lp-backfill/imports/<identity>.json`. */
export function ledgerObjectName(prefix: string, identity: string): string {
  return `${prefix ? prefix + '/' : ''}.lp-backfill/imports/${identity}.json`;
}

/** Said by an API-sink send that has no place for a ledger. */
export const NO_LEDGER =
  'ledger     none: the API sink keeps its import ledger under --to or --state-to (gs://<bucket>/<prefix>); without either, only this run directory protects against sending the same inputs twice';

/** The bucket and prefix of a ledger object's URL (gs://<bucket>/<prefix>/.lp-backfill/imports/<identity>.json). */
export function placeOfLedgerUrl(url: string): { bucket: string; prefix: string } | undefined {
  const m = /^gs:\/\/([^/]+)\/(?:(.*)\/)?\.lp-backfill\/imports\/[0-9a-f]{64}\.json$/.exec(url);
  return m === null ? undefined : { bucket: m[1]!, prefix: m[2] ?? '' };
}

/** A part as the ledger shows it: enough to tell what reached Leanplum. */
export interface LedgerPart {
  file: string;
  rows: number;
  stage: PartStage;
  jobId?: string;
  jobState?: JobState;
}

/** One import of the identity: a run, where it ran, and how far it got. */
export interface ImportEntry {
  runId: string;
  /** when the run recorded itself (before its first launch or send) */
  recordedAt: string;
  updatedAt: string;
  /** --reimport: imported again on purpose, after the entries before it */
  reimport: boolean;
  host: string;
  /** the run directory, absolute */
  dir: string;
  /** --state-to: where the run's state lives (a retried task resumes from there) */
  stateUrl?: string;
  apiUrl: string;
  tool: string;
  /** the CSV job's parts */
  parts: LedgerPart[];
  /** the API sink's send */
  send?: { startedAt: string; completedAt?: string; batches?: number };
}

export interface LedgerRecord {
  schemaVersion: typeof LEDGER_SCHEMA_VERSION;
  identity: string;
  /** what the identity covers, for a person reading the object */
  covers: IdentityParts & { inputNames: string[] };
  /** every import of this identity, oldest first */
  imports: ImportEntry[];
}

/** The ledger's view of a run's parts and send, from its manifest. */
export function progressOf(m: Manifest): Pick<ImportEntry, 'parts' | 'send'> {
  const parts = m.parts.map((p) => {
    const lp: LedgerPart = { file: p.file, rows: p.rows, stage: partStage(p) };
    if (p.launch?.jobId !== undefined) lp.jobId = p.launch.jobId;
    // only an ended job's state: PENDING → RUNNING would cost a write and tell nothing new
    if (p.job?.state === 'FINISHED' || p.job?.state === 'FAILED') lp.jobState = p.job.state;
    return lp;
  });
  if (m.send === undefined) return { parts };
  const send: NonNullable<ImportEntry['send']> = { startedAt: m.send.startedAt };
  if (m.send.completedAt !== undefined) send.completedAt = m.send.completedAt;
  if (m.send.batches !== undefined) send.batches = m.send.batches;
  return { parts, send };
}

/** What a run may do with an identity, given the record found (undefined: none yet). */
export type LedgerDecision =
  /** nothing recorded: create the record (if-absent) */
  | { kind: 'create' }
  /** this run is recorded already: it is resuming, not importing again */
  | { kind: 'resume' }
  /** recorded by other runs, and --reimport: append this run */
  | { kind: 'reimport' }
  /** recorded by other runs: refuse, naming the latest */
  | { kind: 'refuse'; earlier: ImportEntry; count: number };

export function decide(record: LedgerRecord | undefined, runId: string, reimport: boolean): LedgerDecision {
  if (record === undefined || record.imports.length === 0) return { kind: 'create' };
  if (record.imports.some((e) => e.runId === runId)) return { kind: 'resume' };
  if (reimport) return { kind: 'reimport' };
  return { kind: 'refuse', earlier: record.imports.at(-1)!, count: record.imports.length };
}

/** The record with this run's entry put in (replacing its earlier one, else appended). */
export function withEntry(record: LedgerRecord | undefined, base: Omit<LedgerRecord, 'imports'>, entry: ImportEntry): LedgerRecord {
  const imports = record?.imports ?? [];
  const at = imports.findIndex((e) => e.runId === entry.runId);
  const next = at < 0 ? [...imports, entry] : imports.map((e, i) => (i === at ? { ...entry, recordedAt: e.recordedAt, reimport: e.reimport } : e));
  return { ...(record ?? base), imports: next };
}

/** A ledger object read from the bucket: its shape is checked before anything is decided on it. */
export function checkRecord(x: unknown, where: string): LedgerRecord {
  const r = x as Partial<LedgerRecord> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    r.schemaVersion === LEDGER_SCHEMA_VERSION &&
    typeof r.identity === 'string' &&
    Array.isArray(r.imports) &&
    r.imports.every((e) => typeof e === 'object' && e !== null && typeof e.runId === 'string' && Array.isArray(e.parts));
  if (!ok) throw checkRecordError(where, 'is not a record this lp-backfill can read');
  return r as LedgerRecord;
}

/** The import ledger object cannot be read: nothing is decided on it, and the ways on. */
export function checkRecordError(where: string, what: string): BackfillError {
  return new BackfillError(
    'STAGE_REFUSED',
    `the import ledger ${where} ${what}: whether these inputs were imported already cannot be told`,
    'Nothing was launched or sent. It was edited or damaged, or written by a newer lp-backfill: restore an earlier generation of it (with object versioning), or use that version. If you know what it held and want to go on without it, delete the object: the next run records itself anew (and no longer knows of the imports it named).',
  );
}

/** "clean.csv: job 123 FINISHED" for each part, or what happened to the send. */
export function describeProgress(e: ImportEntry): string {
  if (e.send !== undefined)
    return e.send.completedAt !== undefined
      ? `its send completed ${e.send.completedAt}${e.send.batches !== undefined ? ` (${e.send.batches} batches)` : ''}`
      : `its send started ${e.send.startedAt} and did not complete`;
  if (e.parts.length === 0) return 'no parts';
  const one = (p: LedgerPart) =>
    p.jobId !== undefined
      ? `${p.file} job ${p.jobId} ${p.jobState ?? p.stage}`
      : `${p.file} ${p.stage === 'launching' ? 'launching (outcome unknown)' : p.stage}`;
  return `its parts: ${e.parts.map(one).join(', ')}`;
}

/** Whether any of the entry's rows may have reached Leanplum. */
export function mayHaveImported(e: ImportEntry): boolean {
  if (e.send !== undefined) return true;
  return e.parts.some((p) => p.jobId !== undefined || p.stage === 'launching');
}

/** Whether the entry's run still has work to do (a job not ended, a part not launched, a send not completed). */
export function unfinished(e: ImportEntry): boolean {
  if (e.send !== undefined) return e.send.completedAt === undefined;
  return e.parts.some((p) => p.stage !== 'finished' && p.stage !== 'failed');
}

/** How the refusal can name the ways on: computed by the caller (the earlier directory's existence is I/O). */
export interface WaysOn {
  /** the command that finishes the earlier run (its directory is on this host and still holds it), when it has work left */
  finish?: string;
  /** the command that shows the earlier run (its directory, or its --state-to prefix) */
  status?: string;
  /** this very command again, with --reimport */
  reimport: string;
  /** the earlier run directory was found on this machine */
  dirHere: boolean;
}

/**
 * ALREADY_IMPORTED (exit 2): the identity is recorded by another run. Names that run (when, where,
 * its parts and jobs) and the two ways on: finish it, or import again on purpose.
 */
export function alreadyImported(
  appId: string,
  earlier: ImportEntry,
  count: number,
  where: string,
  ways: WaysOn,
  uploaded: readonly string[] = [],
  kind = 'events',
): BackfillError {
  const place = `${earlier.host}:${earlier.dir}${earlier.stateUrl !== undefined ? `, state ${earlier.stateUrl}` : ''}`;
  const more = count > 1 ? ` (the last of ${count} imports recorded)` : '';
  const dir = ways.dirHere ? 'it is still on this machine' : 'not found on this machine';
  const message =
    `these inputs with these options were imported into app ${appId} already (or are being imported): run ${earlier.runId} recorded itself ${earlier.recordedAt}${earlier.reimport ? ' (a --reimport)' : ''}${more}, ` +
    `run directory ${place} (${dir}); ${describeProgress(earlier)}. Recorded in ${where}`;
  const state =
    ways.finish !== undefined
      ? `That run is unfinished: finish it with \`${ways.finish}\`.`
      : unfinished(earlier)
        ? `That run is unfinished: ${unfinishedHow(earlier, ways.dirHere)}`
        : 'That run is done.';
  const finish = `${state}${ways.status !== undefined ? ` See it with \`${ways.status}\`.` : ''}`;
  const hint =
    `${nothingSent(uploaded)} ${finish} ` +
    `${mayHaveImported(earlier) ? secondImport(kind) : 'None of its parts reached Leanplum; to import anyway'}: \`${ways.reimport}\`.`;
  return new BackfillError('ALREADY_IMPORTED', message, hint);
}

/** What importing the same export again does, by --kind: events are tracked twice, attributes and totals are set again. */
function secondImport(kind: string): string {
  if (kind === 'users') return 'To set the same user attributes again on purpose (values changed in Leanplum since then are overwritten)';
  if (kind === 'totals')
    return 'To set the same per-user event totals again on purpose (they replace the counts Leanplum holds now: assumed, see docs/kinds.md)';
  return 'To import the same events again on purpose (Leanplum will hold every event twice)';
}

/** How an unfinished earlier run can be finished, from what the entry says of where it ran. */
function unfinishedHow(e: ImportEntry, dirHere: boolean): string {
  const unknown = e.parts.filter((p) => p.stage === 'launching').map((p) => p.file);
  const look =
    unknown.length === 0
      ? ''
      : ` ${unknown.join(', ')}'s launch has no known outcome: look at the app's import jobs in Leanplum before importing again (a job there holds those rows).`;
  if (e.stateUrl !== undefined) return `run its --state-to task again (its state: ${e.stateUrl}).${look}`;
  if (dirHere) return `finish it from its run directory ${e.dir}.${look}`;
  return `only its run directory ${e.host}:${e.dir} can finish it (it kept no --state-to); on that machine, lp-backfill status on that directory shows what is left.${look}`;
}

/**
 * What the refused run left: nothing, or (a launch refused after the upload) its uploaded parts,
 * which stay in the bucket and reach Leanplum only if launched.
 */
export function nothingSent(uploaded: readonly string[]): string {
  if (uploaded.length === 0) return 'Nothing was uploaded or sent.';
  const shown = uploaded.length > 3 ? `${uploaded.slice(0, 3).join(', ')} … (${uploaded.length} in all)` : uploaded.join(', ');
  return `Nothing was launched or sent. This run's uploaded parts (${shown}) stay in the bucket and reach Leanplum only if launched.`;
}

/** The gs:// URLs of a run's uploaded parts. */
export function uploadedParts(m: Manifest): string[] {
  return m.parts.filter((p) => p.upload !== undefined && p.bucket !== undefined && p.object !== undefined).map((p) => `gs://${p.bucket}/${p.object}`);
}
