import type { Progress } from '../transform/transform.js';

export type LogFormat = 'text' | 'json';

const mb = (b: number) => (b / 1e6).toFixed(1);
const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds elsewhere,
 * NDJSON for CI with --log-format json, nothing with --quiet.
 */
export function progressReporter(opts: { quiet: boolean; format: LogFormat; tty: boolean; write: (s: string) => void; now?: () => number }) {
  const now = opts.now ?? Date.now;
  const started = now();
  let lastLine = started;
  let frame = 0;
  let drawn = false;
  const update = (p: Progress) => {
    if (opts.quiet) return;
    const elapsed = Math.max(0.001, (now() - started) / 1000);
    const rate = p.rowsRead / elapsed;
    if (opts.format === 'json') {
      if (now() - lastLine < 2000) return;
      lastLine = now();
      opts.write(
        JSON.stringify({
          event: 'progress',
          phase: p.phase,
          bytesRead: p.bytesRead,
          bytesTotal: p.bytesTotal ?? null,
          rowsRead: p.rowsRead,
          ...(p.phase === 'write' ? { rowsWritten: p.rowsWritten, rowsToWrite: p.rowsToWrite } : { rowsPerSecond: Math.round(rate) }),
        }) + '\n',
      );
      return;
    }
    // the sorted order is written after the whole input is read: a bar of its own, not 100% of the reading
    const writing =
      p.phase === 'write' ? `sorting & writing ${p.rowsWritten.toLocaleString('en-US')} / ${p.rowsToWrite.toLocaleString('en-US')} rows` : undefined;
    if (opts.tty) {
      let line: string;
      if (writing !== undefined) {
        const f = p.rowsToWrite > 0 ? Math.min(1, p.rowsWritten / p.rowsToWrite) : 1;
        line = `[${'█'.repeat(Math.round(f * 28)).padEnd(28, '░')}] ${(f * 100).toFixed(0).padStart(3)}%  ${writing}`;
      } else if (p.bytesTotal !== undefined && p.bytesTotal > 0) {
        const f = Math.min(1, p.bytesRead / p.bytesTotal);
        const width = 28;
        const eta = f > 0 ? (elapsed / f) * (1 - f) : 0;
        line = `[${'█'.repeat(Math.round(f * width)).padEnd(width, '░')}] ${(f * 100).toFixed(0).padStart(3)}%  ${mb(p.bytesRead)}/${mb(p.bytesTotal)} MB  ${Math.round(rate).toLocaleString('en-US')} rows/s  ETA ${eta.toFixed(0)}s`;
      } else {
        line = `${SPIN[frame++ % SPIN.length]} ${p.rowsRead.toLocaleString('en-US')} rows  ${mb(p.bytesRead)} MB  ${Math.round(rate).toLocaleString('en-US')} rows/s`;
      }
      opts.write(`\r\x1b[2K${line}`);
      drawn = true;
      return;
    }
    if (now() - lastLine < 5000) return;
    lastLine = now();
    if (writing !== undefined) {
      opts.write(`progress: ${writing}\n`);
      return;
    }
    opts.write(
      `progress: ${p.rowsRead.toLocaleString('en-US')} rows, ${mb(p.bytesRead)}${p.bytesTotal ? `/${mb(p.bytesTotal)}` : ''} MB, ${Math.round(rate).toLocaleString('en-US')} rows/s\n`,
    );
  };
  const done = () => {
    if (drawn) opts.write('\r\x1b[2K');
  };
  return { update, done };
}
