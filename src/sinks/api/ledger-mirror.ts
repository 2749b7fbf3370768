import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { writeFileDurable } from '../../files/json-file.js';
import type { Log } from '../../run/log.js';
import { BackfillError } from '../../errors.js';
import { httpStatusOf } from '../../gcs/http-status.js';
import type { ObjectRef } from '../../gcs/storage.js';
import { gsUrl } from '../../gcs/url.js';
import { LEDGER_FILE, readLedgerText } from './send-ledger.js';

/**
 * The send ledger kept in GCS too (--state-to), beside the run's manifest: a folder
 * `<state folder>/send-ledger/` of numbered chunks `00000001.ndjson`, `00000002.ndjson`, …, each
 * holding the ledger lines appended since the chunk before. Their concatenation is a prefix of the
 * local ledger (or, on a new machine, the whole of what is known).
 *
 * Each chunk is created only if its name is free (ifGenerationMatch 0): compare-and-swap, so of two
 * tasks sending one run, the second to write a chunk number gets STATE_CONFLICT and stops. Chunks
 * rather than one object rewritten: an append costs the new lines only, and GCS allows about one
 * write a second to one object name, far below the answers' pace.
 *
 * What is mirrored when: a batch's `send` line is in GCS before its POST (the send stage waits for
 * it; it writes `send` lines ahead, for the batches queued, so the wait is rare), so a task on a new
 * machine knows every batch that may have gone out. Answers go out at most `everyMs` after they
 * are on the local disk: an answer the task died before mirroring leaves its batch unknown there
 * (exit 4 with the --resend-unknown/--skip-unknown token), never silently resent.
 */
export class LedgerMirror {
  private pending = '';
  private waiters: { done: () => void; fail: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed: unknown;
  private lastFlush = 0;
  /** chunks in GCS (the next one written is chunks + 1) */
  chunks = 0;
  /** chunk objects written by this process (for tests and the bench) */
  writes = 0;

  constructor(
    private readonly storage: Storage,
    private readonly bucket: string,
    /** the folder, ending in `send-ledger/` */
    readonly prefix: string,
    private readonly everyMs = 1000,
  ) {}

  /** The mirror beside a run's state object (`…/manifest.json` → `…/send-ledger/`). */
  static beside(storage: Storage, state: ObjectRef, everyMs?: number): LedgerMirror {
    const folder = state.name.slice(0, state.name.lastIndexOf('/') + 1);
    return new LedgerMirror(storage, state.bucket, `${folder}send-ledger/`, everyMs);
  }

  get url(): string {
    return gsUrl({ bucket: this.bucket, name: this.prefix });
  }

  private chunkName(k: number): string {
    return `${this.prefix}${String(k).padStart(8, '0')}.ndjson`;
  }

  /** The mirrored ledger: every chunk in order (a gap in the numbers is damage). */
  async read(): Promise<string> {
    let files: { name: string }[];
    try {
      [files] = await this.storage.bucket(this.bucket).getFiles({ prefix: this.prefix, autoPaginate: true });
    } catch (e) {
      throw new BackfillError('GCS_FAILED', `listing ${this.url} failed: ${(e as Error).message}`, 'Check the bucket name and the Google credentials.', {
        cause: e,
      });
    }
    const names = files
      .map((f) => f.name)
      .filter((n) => /^\d{8}\.ndjson$/.test(n.slice(this.prefix.length)))
      .sort();
    names.forEach((n, i) => {
      if (n !== this.chunkName(i + 1))
        throw new BackfillError(
          'STAGE_REFUSED',
          `${this.url} is damaged: chunk ${i + 1} is missing (found ${n.slice(this.prefix.length)})`,
          'The mirrored send ledger was edited; without it lp-backfill cannot know what Leanplum holds. Restore the object from its generations, or ask for help.',
        );
    });
    const texts: string[] = new Array(names.length);
    // a few reads at a time: a long send leaves about one chunk a second
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        try {
          texts[i] = (await this.storage.bucket(this.bucket).file(names[i]!).download())[0].toString('utf8');
        } catch (e) {
          throw new BackfillError('GCS_FAILED', `reading gs://${this.bucket}/${names[i]} failed: ${(e as Error).message}`, 'Run the same command again.', {
            cause: e,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, names.length) }, worker));
    this.chunks = names.length;
    return texts.join('');
  }

  /**
   * Lines appended to the local ledger (already on its disk). `urgent`: resolves once they are in
   * GCS, flushing now (a POST waits on it); else they go with the next flush, at most `everyMs` on.
   */
  add(text: string, urgent: boolean): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    this.pending += text;
    if (!urgent) {
      this.schedule();
      return Promise.resolve();
    }
    return new Promise<void>((done, fail) => {
      this.waiters.push({ done, fail });
      this.kick();
    });
  }

  private schedule(): void {
    if (this.timer !== undefined || this.flushing !== undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.kick();
      },
      Math.max(0, this.lastFlush + this.everyMs - Date.now()),
    );
    this.timer.unref();
  }

  /** Starts a flush unless one runs (it starts the next one itself when it ends). */
  private kick(): void {
    if (this.flushing !== undefined || this.failed !== undefined) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending === '') return;
    const text = this.pending;
    const waiters = this.waiters;
    this.pending = '';
    this.waiters = [];
    this.flushing = this.writeChunk(text).then(
      () => {
        for (const w of waiters) w.done();
      },
      (e) => {
        this.failed = e;
        for (const w of [...waiters, ...this.waiters]) w.fail(e);
        this.waiters = [];
      },
    );
    void this.flushing.finally(() => {
      this.flushing = undefined;
      this.lastFlush = Date.now();
      if (this.waiters.length > 0) this.kick();
      else if (this.pending !== '') this.schedule();
    });
  }

  private async writeChunk(text: string): Promise<void> {
    const k = this.chunks + 1;
    const name = this.chunkName(k);
    try {
      await this.storage
        .bucket(this.bucket)
        .file(name)
        .save(text, {
          resumable: false,
          validation: 'crc32c',
          preconditionOpts: { ifGenerationMatch: 0 },
          metadata: { contentType: 'application/x-ndjson' },
        });
    } catch (e) {
      if (httpStatusOf(e) === 412) {
        throw new BackfillError(
          'STATE_CONFLICT',
          `gs://${this.bucket}/${name} was written by another task: two tasks are sending this run`,
          'Another task sends the same run (the same shard?). Let it finish; run this one again afterwards: it reads the mirrored ledger and sends only what is left.',
          { cause: e },
        );
      }
      throw new BackfillError(
        'GCS_FAILED',
        `writing gs://${this.bucket}/${name} failed: ${(e as Error).message}`,
        'Run the same command again: answered batches are not sent again.',
        {
          cause: e,
        },
      );
    }
    this.chunks = k;
    this.writes++;
  }

  /** the first write that failed: every later line fails with it */
  get failure(): unknown {
    return this.failed;
  }

  /** Everything added is in GCS (or the first failure is thrown). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.failed !== undefined) throw this.failed;
      if (this.flushing !== undefined) {
        await this.flushing;
        continue;
      }
      if (this.pending === '') return;
      this.kick();
    }
  }
}

export type Reconciled = 'same' | 'pushed' | 'adopted' | 'diverged';

/**
 * Which ledger holds: the local one and the mirrored one compared at the start of a send. Pure.
 * - equal → nothing to do;
 * - the mirror is a prefix of the local ledger (this machine got further than its last flush, or
 *   the run moved to --state-to midway) → the local tail goes up;
 * - the local ledger is a prefix of the mirror (a new machine: empty) → the mirror is copied down;
 * - neither (another task went on from the mirror after this machine stopped) → the mirror holds:
 *   every batch this machine POSTed was in it before the POST, so nothing is lost by dropping the
 *   local tail; the local copy is kept aside.
 */
export function reconcile(local: string, remote: string): Reconciled {
  if (local === remote) return 'same';
  if (local.startsWith(remote)) return 'pushed';
  if (remote.startsWith(local)) return 'adopted';
  return 'diverged';
}

/**
 * At the start of a send with --state-to: makes the local ledger and the mirror agree (see
 * `reconcile`) before anything is decided from the ledger.
 */
export async function syncMirror(dir: string, mirror: LedgerMirror, log: Log): Promise<Reconciled> {
  const path = join(dir, LEDGER_FILE);
  const text = await readLedgerText(dir);
  // a last line cut short by a crash was never acted on (as readLedger)
  const local = text.slice(0, text.lastIndexOf('\n') + 1);
  const remote = await mirror.read();
  const how = reconcile(local, remote);
  if (how === 'pushed') {
    await mirror.add(local.slice(remote.length), true);
    log('ledger', { url: mirror.url, how }, `ledger     ${mirror.url}: brought up to date from ${path}`);
  } else if (how === 'adopted' || how === 'diverged') {
    if (how === 'diverged') {
      const aside = `${path}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(path, aside);
      log(
        'ledger',
        { url: mirror.url, how, aside },
        `ledger     ${path} disagrees with ${mirror.url} (another task went on from there): the mirror holds; the local copy is kept as ${aside}`,
      );
    } else log('ledger', { url: mirror.url, how }, `ledger     ${mirror.url}: the send ledger read from GCS`);
    await writeFileDurable(path, remote);
  }
  return how;
}
