import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';

/**
 * A file write stream whose errors (ENOSPC, EIO…) are kept for the next wait on it instead of
 * being thrown as an 'error' event nobody listens to, which would end the process with a stack
 * trace and leave the staging directory and lock behind.
 */
export function openWriteStream(path: string, opts: { highWaterMark?: number } = {}): WriteStream {
  const s = createWriteStream(path, opts);
  s.on('error', () => undefined);
  return s;
}

/** Waits until the stream wants more; rejects with the stream's error, now or later. */
export async function drained(s: WriteStream): Promise<void> {
  if (s.errored) throw s.errored;
  if (s.writableNeedDrain) await once(s, 'drain');
}

/** Ends the stream and waits until every byte is written; rejects with its error. */
export async function endStream(s: WriteStream): Promise<void> {
  if (!s.writableEnded) s.end();
  await finished(s);
}
