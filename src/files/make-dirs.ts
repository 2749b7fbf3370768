import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BackfillError, ioFailure } from '../errors.js';

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdir loops forever on a path that the
 * file system refuses in a way it does not expect (`--out /proc/x` spun at 86% CPU in a review);
 * here every level is one system call and the first refusal is the answer.
 */
export async function makeDirs(path: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(path); ; ) {
    const s = await stat(p).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    if (s !== undefined) {
      if (!s.isDirectory()) throw new BackfillError('IO_FAILED', `cannot create "${path}": "${p}" is a file, not a directory`, 'Choose another path.');
      break;
    }
    missing.unshift(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of missing) {
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      const io = ioFailure(e);
      throw new BackfillError(
        'IO_FAILED',
        `cannot create the directory "${path}": ${io?.message ?? (e as Error).message}`,
        'Choose a path on a writable local file system (e.g. --out ./runs/<name>).',
        { cause: e },
      );
    }
  }
}
