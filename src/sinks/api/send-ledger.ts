import { createHash } from 'node:crypto';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BackfillError } from '../../errors.js';
import { syncDir } from '../../files/json-file.js';

/**
 * The API sink's send ledger: `send-ledger.ndjson` in the run directory, an append-only journal,
 * one JSON object a line, each fsync'd before anything acts on it. A batch goes
 *   planned → (send) in flight → (answer) answered | (refused) planned again | (unknown) unknown
 * and an unknown batch leaves that state only on the user's word: (resend) → send again with the
 * identical actions, or (skip) → closed as unknown. A `send` line is durable before its POST and an
 * `answer` line before the next step counts it, so after a crash or kill an answered batch is never
 * sent again and a batch whose POST may have gone out is known to be unknown.
 *
 * Appending a line costs one write and one fsync shared by every line queued meanwhile (group
 * commit); rewriting a JSON file per batch would cost a temp file, a rename and two fsyncs, and
 * grow with the run.
 */
export const LEDGER_FILE = 'send-ledger.ndjson';

/** Rows of an answered batch that were not a plain success: [index in batch, w(arning)|e(rror), message]. */
export type Flagged = [number, 'w' | 'e', string];

export type LedgerEntry =
  | { e: 'send'; n: number; first: number; rows: number; users: number; hash: string; at: string }
  | { e: 'answer'; n: number; at: string; attempts: number; ok: number; warned: number; failed: number; flagged: Flagged[] }
  | { e: 'refused'; n: number; at: string; attempts: number; message: string }
  | { e: 'unknown'; n: number; at: string; attempts: number; message: string }
  | { e: 'resend'; n: number; at: string; token: string }
  | { e: 'skip'; n: number; at: string; token: string }
  /** a `send` written ahead (--state-to) whose POST never started: the batch is planned again */
  | { e: 'unsent'; n: number; at: string }
  | { e: 'redirect'; at: string; from: string; to: string };

export type BatchState = 'in-flight' | 'answered' | 'planned' | 'unknown' | 'resend' | 'skipped';

export interface BatchRecord {
  state: BatchState;
  /** the last send: what was sent, and its line number in the ledger (names this attempt in tokens) */
  send: Extract<LedgerEntry, { e: 'send' }>;
  sendSeq: number;
  answer?: Extract<LedgerEntry, { e: 'answer' }>;
  /** POST attempts over all sends */
  attempts: number;
  /** `send` entries: 1, or more after --resend-unknown or a refusal */
  sends: number;
  message?: string;
}

/** What the ledger says, replayed. Pure. */
export interface LedgerView {
  batches: Map<number, BatchRecord>;
  redirects: { from: string; to: string }[];
}

export function replay(entries: readonly LedgerEntry[]): LedgerView {
  const batches = new Map<number, BatchRecord>();
  const redirects: LedgerView['redirects'] = [];
  entries.forEach((x, seq) => {
    if (x.e === 'redirect') {
      redirects.push({ from: x.from, to: x.to });
      return;
    }
    if (x.e === 'send') {
      const prev = batches.get(x.n);
      batches.set(x.n, { state: 'in-flight', send: x, sendSeq: seq, attempts: prev?.attempts ?? 0, sends: (prev?.sends ?? 0) + 1 });
      return;
    }
    const b = batches.get(x.n);
    if (b === undefined) throw corrupt(`line ${seq + 1} names batch ${x.n}, which was never sent`);
    switch (x.e) {
      case 'answer':
        b.state = 'answered';
        b.answer = x;
        b.attempts += x.attempts;
        break;
      case 'refused':
        b.state = 'planned';
        b.attempts += x.attempts;
        b.message = x.message;
        break;
      case 'unknown':
        b.state = 'unknown';
        b.attempts += x.attempts;
        b.message = x.message;
        break;
      case 'resend':
        b.state = 'resend';
        break;
      case 'skip':
        b.state = 'skipped';
        break;
      case 'unsent':
        b.state = 'planned';
        b.sends--;
        break;
    }
  });
  // a send with nothing after it: the process stopped while the POST was (or may have been) out
  for (const b of batches.values()) if (b.state === 'in-flight') b.message = 'the run stopped while this batch was in flight';
  return { batches, redirects };
}

/** Batches whose outcome nobody knows: in flight when the run stopped, or without a usable answer. */
export const unknownBatches = (v: LedgerView): number[] =>
  [...v.batches.entries()]
    .filter(([, b]) => b.state === 'in-flight' || b.state === 'unknown')
    .map(([n]) => n)
    .sort((a, b) => a - b);

/**
 * The name of the present unknown state, for --resend-unknown / --skip-unknown: a hash of the
 * unknown batches and the ledger line of their last send. A command repeated from the shell history
 * after those batches were resent (and perhaps became unknown again) names an older state and is
 * refused instead of sending a third time.
 */
export function unknownToken(v: LedgerView): string | undefined {
  const ns = unknownBatches(v);
  if (ns.length === 0) return undefined;
  const text = ns.map((n) => `${n}@${v.batches.get(n)!.sendSeq}`).join(',');
  return `u${createHash('sha256').update(text).digest('hex').slice(0, 10)}`;
}

const corrupt = (what: string) =>
  new BackfillError(
    'STAGE_REFUSED',
    `${LEDGER_FILE} is damaged: ${what}`,
    'The send ledger was edited or damaged; without it lp-backfill cannot know what Leanplum holds. Restore it, or ask for help before sending again.',
  );

/** The send ledger's text as it is on disk; empty when the run has not sent yet. */
export async function readLedgerText(dir: string): Promise<string> {
  try {
    return await readFile(join(dir, LEDGER_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

/** Reads the ledger (none: no entries). A last line cut short by a crash was never acted on and is ignored. */
export async function readLedger(dir: string): Promise<LedgerEntry[]> {
  const text = await readLedgerText(dir);
  const lines = text.split('\n');
  const last = lines.pop()!;
  const out: LedgerEntry[] = [];
  for (const [i, l] of lines.entries()) {
    try {
      out.push(JSON.parse(l) as LedgerEntry);
    } catch {
      throw corrupt(`line ${i + 1} is not JSON`);
    }
  }
  // `last` is '' after a complete final line; otherwise a torn write: its fsync never returned
  void last;
  return out;
}

/** Where the ledger's lines also go (ledger-mirror.ts: GCS with --state-to). */
export interface LedgerSink {
  /** lines already on the local disk; `urgent`: resolves once they are there too */
  add(text: string, urgent: boolean): Promise<void>;
  readonly failure: unknown;
  drain(): Promise<void>;
}

/** The journal's appender: lines queued while a write+fsync runs go out together in the next one. */
export class LedgerWriter {
  private queue: { line: string; remote: boolean; done: () => void; fail: (e: unknown) => void }[] = [];
  /** --state-to: every line also goes to GCS (ledger-mirror.ts) */
  mirror: LedgerSink | undefined;
  private running = false;
  private failed: unknown;
  /** fsyncs done (for the benchmark) */
  syncs = 0;

  private constructor(private readonly fh: FileHandle) {}

  static async open(dir: string): Promise<LedgerWriter> {
    const path = join(dir, LEDGER_FILE);
    // a torn last line (a crash mid-write) is cut off first, so the next entry starts on its own line
    const text = await readLedgerText(dir);
    const fh = await open(path, 'a+');
    if (text !== '' && !text.endsWith('\n')) await fh.truncate(Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    if (text === '') await syncDir(dir);
    return new LedgerWriter(fh);
  }

  /** Resolves once the entry is on disk (written and fsync'd) and, with `remote` and a mirror, in GCS too. */
  append(entry: LedgerEntry, remote = false): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise((done, fail) => {
      this.queue.push({ line: `${JSON.stringify(entry)}\n`, remote, done, fail });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        const text = batch.map((b) => b.line).join('');
        await this.fh.write(text);
        // fdatasync: the appended bytes and the file size, which is all an append needs
        await this.fh.datasync();
        this.syncs++;
        if (this.mirror === undefined) for (const b of batch) b.done();
        else {
          const remote = this.mirror.add(
            text,
            batch.some((b) => b.remote),
          );
          // a line that need not wait for GCS counts now; a failed mirror fails every later append
          remote.catch(() => undefined);
          for (const b of batch) if (b.remote) remote.then(b.done, b.fail);
          if (this.mirror.failure !== undefined) throw this.mirror.failure;
          for (const b of batch) if (!b.remote) b.done();
        }
      } catch (e) {
        this.failed = e;
        for (const b of [...batch, ...this.queue]) b.fail(e);
        this.queue = [];
      }
    }
    this.running = false;
  }

  /** Waits for what was appended (and its mirror), then closes; throws the mirror's failure. */
  async close(): Promise<void> {
    while (this.running) await new Promise((r) => setImmediate(r));
    try {
      await this.mirror?.drain();
    } finally {
      await this.fh.close().catch(() => undefined);
    }
  }
}
