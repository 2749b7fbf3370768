import { randomBytes } from 'node:crypto';
import { type FileHandle, link, open, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeDirs } from '../files/make-dirs.js';
import { BackfillError } from '../errors.js';
import type { Manifest } from '../model/manifest.js';
import { syncDir } from '../files/json-file.js';

/** Who holds a run directory: written into its lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  /** tells this process's own locks from another's with the same pid (pid reuse in containers) */
  nonce?: string;
}

/** Where, besides the run directory, the manifest is kept (GCS with --state-to). */
export interface ManifestMirror {
  readonly url: string;
  save(m: Manifest): Promise<void>;
  /** reads the state again (after a lost compare-and-swap); the local copy follows */
  reload(): Promise<Manifest>;
}

/** Proof that the caller holds a run directory's lock; every stage that changes the run takes one. */
export interface RunLock {
  readonly dir: string;
  readonly holder: LockHolder;
  /** set when the run's state also lives in GCS: every manifest save goes there too, compare-and-swap */
  mirror?: ManifestMirror;
  /** set once the run recorded itself in an import ledger: saves that change its parts update the entry there */
  ledger?: { save(m: Manifest, now: Date): Promise<void>; flush(): Promise<void> };
  release(): Promise<void>;
}

export const LOCK_FILE = '.lock';
export const lockPath = (dir: string) => join(dir, LOCK_FILE);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Nonces of the locks this process holds or is taking: a lock naming our pid without one of them is another's (pid reuse in a container). */
const heldHere = new Set<string>();

/** Signal 0 checks existence only: ESRCH = gone; EPERM = alive but someone else's. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<{ holder: LockHolder | undefined; raw: string } | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const h = JSON.parse(raw) as LockHolder;
    return { holder: typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined, raw };
  } catch {
    return { holder: undefined, raw };
  }
}

async function tryCreate(path: string, holder: LockHolder): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await fh.writeFile(JSON.stringify(holder) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

const describeHolder = (h: LockHolder) => `pid ${h.pid} on ${h.host}, running \`${h.command}\` since ${h.startedAt}`;

/**
 * Takes a stale lock away by renaming it aside, then checks that what was moved is the lock judged
 * stale: if another process took it over in between, its fresh lock is put back (link fails when
 * a third one already made a new lock, which then stands).
 */
async function takeOver(path: string, staleRaw: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = await readFile(aside, 'utf8').catch(() => staleRaw);
  if (moved !== staleRaw) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * One process per run directory. The lock file is created with O_EXCL and names its holder; a
 * second process is refused at once with that name. A lock whose process is gone (same host, pid
 * not alive) is taken over; a lock from another host cannot be checked and is never taken.
 */
export async function acquireRunLock(dir: string, command: string, now: () => Date = () => new Date()): Promise<RunLock> {
  const path = lockPath(dir);
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: now().toISOString(), command, nonce: randomBytes(8).toString('hex') };
  heldHere.add(holder.nonce!);
  try {
    return await takeLock(dir, path, holder);
  } catch (e) {
    heldHere.delete(holder.nonce!);
    throw e;
  }
}

async function takeLock(dir: string, path: string, holder: LockHolder): Promise<RunLock> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await tryCreate(path, holder)) {
      await syncDir(dir);
      return {
        dir,
        holder,
        release: async () => {
          await releaseLock(path, holder);
          heldHere.delete(holder.nonce!);
        },
      };
    }
    const seen = await readHolder(path);
    if (seen === undefined) continue; // released between our open and our read
    const h = seen.holder;
    if (h === undefined) {
      // a lock being written right now reads empty for an instant: give the writer a moment; one
      // that stays unreadable is not ours to judge (it may not even be lp-backfill's)
      const age =
        Date.now() -
        (await stat(path)
          .then((s) => s.mtimeMs)
          .catch(() => Date.now()));
      if (age < 2000) {
        await sleep(50);
        continue;
      }
      throw new BackfillError(
        'RUN_LOCKED',
        `${path} exists but names no lp-backfill process`,
        `If no lp-backfill process works on ${dir}, delete ${path} and run again.`,
      );
    }
    const ours = h.pid === process.pid && h.nonce !== undefined && heldHere.has(h.nonce);
    if (h.host === holder.host && !ours && (h.pid === process.pid || !isAlive(h.pid))) {
      await takeOver(path, seen.raw);
      continue;
    }
    throw new BackfillError(
      'RUN_LOCKED',
      `${dir} is in use by another lp-backfill process (${describeHolder(h)})`,
      h.host === holder.host
        ? 'Wait for that command to end (lp-backfill status <dir> reads the run without a lock). Two processes on one run could launch a job twice.'
        : `That process runs on another machine (${h.host}), so this one cannot tell whether it is alive. If you are sure it is gone, delete ${path} and run again.`,
    );
  }
  throw new BackfillError(
    'RUN_LOCKED',
    `${dir}: could not take the run lock (${path} keeps changing)`,
    'Another process is starting on this run directory; wait for it, then run again.',
  );
}

async function releaseLock(path: string, holder: LockHolder): Promise<void> {
  const seen = await readHolder(path).catch(() => undefined);
  // never remove a lock that a takeover gave to someone else
  if (seen?.holder?.pid === holder.pid && seen.holder.startedAt === holder.startedAt && seen.holder.host === holder.host) {
    await unlink(path).catch(() => undefined);
  }
}

/**
 * Runs `fn` holding the run directory's lock, and always lets it go. `create`: a command that
 * starts a run makes the directory; the others need it to exist already.
 */
export async function withRunLock<T>(dir: string, command: string, fn: (lock: RunLock) => Promise<T>, o: { create?: boolean } = {}): Promise<T> {
  const kind = await stat(dir).then(
    (s) => (s.isDirectory() ? 'dir' : 'other'),
    () => 'none' as const,
  );
  if (kind === 'other') {
    throw new BackfillError('IO_FAILED', `${dir} is a file, not a directory`, 'Give a directory for --out (a new one, or the --out of an earlier run).');
  }
  if (kind === 'none') {
    if (o.create !== true)
      throw new BackfillError('STAGE_REFUSED', `${dir} is not a run directory (it does not exist)`, 'Give the --out directory of a transform or run.');
    await makeDirs(dir);
  }
  const lock = await acquireRunLock(dir, command);
  try {
    return await fn(lock);
  } finally {
    // the import ledger's paced updates: the command's last progress is written while the lock is held
    try {
      await lock.ledger?.flush();
    } finally {
      await lock.release();
    }
    // a directory this command made and that stayed empty (it failed before writing) is not left behind
    if (kind === 'none') await rmdir(dir).catch(() => undefined);
  }
}
