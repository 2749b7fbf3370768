import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../errors.js';
import { readJsonObject, writeJsonObjectIfGeneration } from '../gcs/json-object.js';
import { gsUrl, type ObjectRef } from '../gcs/storage.js';
import type { Manifest } from '../model/manifest.js';
import { TOOL } from '../version.js';
import {
  alreadyImported,
  canonicalJson,
  checkRecord,
  checkRecordError,
  decide,
  type IdentityParts,
  type ImportEntry,
  importIdentity,
  LEDGER_SCHEMA_VERSION,
  mayHaveImported,
  type LedgerRecord,
  ledgerObjectName,
  progressOf,
  uploadedParts,
  type WaysOn,
  withEntry,
} from './import-ledger.js';
import type { RunLock } from './lock.js';
import type { Log } from './log.js';

// The import ledger's thin GCS side: one small JSON object per identity, created if absent
// (ifGenerationMatch 0) and changed by generation compare-and-swap, so that of two runs that read
// "nothing recorded" at once exactly one records itself; the other reads again and is refused (or,
// being the same run, resumes).

/** A bucket and prefix that keeps ledgers (the CSV job's --to, else --state-to). */
export interface LedgerPlace {
  bucket: string;
  prefix: string;
}

/** What the refusal needs to say besides the record: computed by the orchestrator. */
export type WaysOnFor = (earlier: ImportEntry) => Promise<WaysOn>;

const ATTEMPTS = 5;

/**
 * GCS takes about one update a second to one object (more meet 429s): the entry is written at most
 * once per PACE_MS, the latest progress winning; what is held back is written by the next save after
 * the pause, or by flush() when the command ends (before the run lock is let go).
 */
export const PACE_MS = 1000;

/** The pacing's clock (milliseconds, monotonic) and its wait: injected by tests. */
export interface LedgerClock {
  ms(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: LedgerClock = {
  ms: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

async function readRecord(storage: Storage, ref: ObjectRef): Promise<{ record: LedgerRecord | undefined; generation: string }> {
  let found: Awaited<ReturnType<typeof readJsonObject<unknown>>>;
  try {
    found = await readJsonObject<unknown>(storage, ref);
  } catch (e) {
    // not JSON: said as the ledger it is, not as a run's state object
    if (e instanceof BackfillError && e.code === 'STAGE_REFUSED') throw checkRecordError(gsUrl(ref), 'is not valid JSON');
    throw e;
  }
  return { record: found.value === undefined ? undefined : checkRecord(found.value, gsUrl(ref)), generation: found.generation };
}

/**
 * One run's entry in one ledger record. `check` only reads (before the upload); `claim` records
 * the run (before its first launch or send); afterwards every manifest save that changes what the
 * ledger shows (a part launched, a job ended) updates the entry: one small write each.
 */
export class ImportLedger {
  private generation = '0';
  private written: string | undefined;
  /** when the record was last written (the pacing clock) */
  private lastWrite: number | undefined;
  /** progress held back by the pacing: written by the next save after the pause, or by flush() */
  private pending: { m: Manifest; now: Date } | undefined;

  private constructor(
    private readonly storage: Storage,
    readonly ref: ObjectRef,
    private readonly parts: IdentityParts & { inputNames: string[] },
    readonly identity: string,
    private readonly log: Log,
    private readonly clock: LedgerClock,
  ) {}

  get url(): string {
    return gsUrl(this.ref);
  }

  static at(storage: Storage, place: LedgerPlace, parts: IdentityParts & { inputNames: string[] }, log: Log, clock: LedgerClock = realClock): ImportLedger {
    const id = importIdentity(parts);
    return new ImportLedger(storage, { bucket: place.bucket, name: ledgerObjectName(place.prefix, id) }, parts, id, log, clock);
  }

  /** Read only: refuses (ALREADY_IMPORTED) when another run recorded this identity and this one may not import again. */
  async check(m: Manifest, reimport: boolean, ways: WaysOnFor): Promise<'create' | 'resume' | 'reimport'> {
    const { record } = await readRecord(this.storage, this.ref);
    const d = decide(record, m.runId, reimport);
    if (d.kind === 'refuse') throw alreadyImported(this.parts.appId, d.earlier, d.count, this.url, await ways(d.earlier), uploadedParts(m), this.parts.kind);
    return d.kind;
  }

  /**
   * Records the run (create-if-absent, or appended with --reimport, or its own entry updated when
   * it resumes) and attaches the ledger to the lock, so that later saves keep the entry current.
   * A lost compare-and-swap reads again and decides again.
   */
  async claim(lock: RunLock, m: Manifest, o: { reimport: boolean; apiUrl: string; now: Date }, ways: WaysOnFor): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { record, generation } = await readRecord(this.storage, this.ref);
      const d = decide(record, m.runId, o.reimport);
      if (d.kind === 'refuse') throw alreadyImported(this.parts.appId, d.earlier, d.count, this.url, await ways(d.earlier), uploadedParts(m), this.parts.kind);
      const mine = record?.imports.find((e) => e.runId === m.runId);
      const same = mine !== undefined && canonicalJson({ parts: mine.parts, send: mine.send }) === canonicalJson({ send: undefined, ...progressOf(m) });
      // a resume whose entry already says what the manifest says writes nothing
      const next = same
        ? record!
        : withEntry(record, this.base(), this.entryOf(m, o.now, { reimport: d.kind === 'reimport', apiUrl: o.apiUrl, dir: lock.dir }));
      try {
        this.generation = same ? generation : await writeJsonObjectIfGeneration(this.storage, this.ref, next, generation);
      } catch (e) {
        if (!(e instanceof BackfillError && e.code === 'STATE_CONFLICT') || attempt >= ATTEMPTS) throw e;
        continue;
      }
      this.record = next;
      this.entry = next.imports.find((e) => e.runId === m.runId);
      this.written = canonicalJson(progressOf(m));
      if (!same) this.lastWrite = this.clock.ms();
      const said = d.kind === 'resume' ? 'this run, resuming' : d.kind === 'reimport' ? 'recorded as a reimport' : 'recorded';
      this.log('ledger', { url: this.url, identity: this.identity, decision: d.kind }, `ledger     ${this.url} (${said})`);
      lock.ledger = this;
      return;
    }
  }

  private entry: ImportEntry | undefined;
  private record: LedgerRecord | undefined;

  /**
   * After a manifest save: the entry follows the run (parts launched, jobs ended, the send done),
   * paced (PACE_MS) with the latest progress winning. Not paced: the first progress that may have
   * reached Leanplum (a part launching, a send started), written before the call that makes it
   * true. A failed write is said, not fatal.
   */
  async save(m: Manifest, now: Date): Promise<void> {
    if (this.entry === undefined || m.runId !== this.entry.runId) return;
    const progress = progressOf(m);
    if (canonicalJson(progress) === this.written) {
      this.pending = undefined;
      return;
    }
    const first = !mayHaveImported(this.entry) && mayHaveImported({ ...this.entry, ...progress });
    const last = this.lastWrite;
    if (!first && last !== undefined && this.clock.ms() - last < PACE_MS) {
      // the manifest is a live object: what it says at the write is what is written
      this.pending = { m: structuredClone(m), now };
      return;
    }
    await this.write(m, now);
  }

  /** When the command ends (the run lock is let go after it): the progress held back is written, after the pause. */
  async flush(): Promise<void> {
    const held = this.pending;
    if (held === undefined) return;
    const wait = this.lastWrite === undefined ? 0 : this.lastWrite + PACE_MS - this.clock.ms();
    if (wait > 0) await this.clock.sleep(Math.min(wait, PACE_MS));
    await this.write(held.m, held.now);
  }

  private async write(m: Manifest, now: Date): Promise<void> {
    this.pending = undefined;
    const progress = progressOf(m);
    const text = canonicalJson(progress);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        // the record as last written, else (another run appended meanwhile) as it is now
        const { record, generation } = attempt === 1 ? { record: this.record, generation: this.generation } : await readRecord(this.storage, this.ref);
        const entry: ImportEntry = { ...this.entry!, ...progress, updatedAt: now.toISOString() };
        const next = withEntry(record, this.base(), entry);
        this.lastWrite = this.clock.ms();
        this.generation = await writeJsonObjectIfGeneration(this.storage, this.ref, next, generation);
        this.record = next;
        this.entry = entry;
        this.written = text;
        return;
      } catch (e) {
        if (e instanceof BackfillError && e.code === 'STATE_CONFLICT' && attempt < ATTEMPTS) continue;
        this.log(
          'ledger-warning',
          { url: this.url, error: (e as Error).message },
          `warning    the import ledger ${this.url} was not updated (${(e as Error).message}); it still names this run, the next save tries again`,
        );
        return;
      }
    }
  }

  private base(): Omit<LedgerRecord, 'imports'> {
    return { schemaVersion: LEDGER_SCHEMA_VERSION, identity: this.identity, covers: this.parts };
  }

  private entryOf(m: Manifest, now: Date, o: { reimport: boolean; apiUrl: string; dir: string }): ImportEntry {
    const e: ImportEntry = {
      runId: m.runId,
      recordedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      reimport: o.reimport,
      host: hostname(),
      dir: resolve(o.dir),
      apiUrl: o.apiUrl,
      tool: `${TOOL.name} ${TOOL.version}`,
      ...progressOf(m),
    };
    if (m.stateUrl !== undefined) e.stateUrl = m.stateUrl;
    return e;
  }
}
