import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/cli/progress.js';
import { PartWriter } from '../../src/transform/part-writer.js';
import { tempDir } from '../helpers/run.js';

describe('PartWriter', () => {
  it('splits at row boundaries into parts within the limit, each with the header, losing nothing', async () => {
    const dir = await tempDir();
    const w = new PartWriter(dir, 'userId,event,time\n', 1024);
    const rows = Array.from({ length: 300 }, (_, i) => `u${i},"ev, ${'x'.repeat(i % 40)}",1760000000\n`);
    for (const r of rows) if (w.add(r)) await w.flush();
    await w.end();
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(w.parts.map((p) => p.file).sort());
    expect(files[0]).toBe('clean-part-001.csv');
    let all = '';
    for (const p of w.parts) {
      const text = await readFile(join(dir, p.file), 'utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
      expect(Buffer.byteLength(text)).toBe(p.bytes);
      expect(text.startsWith('userId,event,time\n')).toBe(true);
      expect(text.split('\n').length - 2).toBe(p.rows);
      all += text.slice('userId,event,time\n'.length);
    }
    expect(all).toBe(rows.join(''));
  });

  it('keeps a single part as clean.csv', async () => {
    const dir = await tempDir();
    const w = new PartWriter(dir, 'h\n', 1 << 20);
    w.add('a\n');
    await w.end();
    expect(await readdir(dir)).toEqual(['clean.csv']);
  });
});

describe('progressReporter', () => {
  const run = (opts: { quiet?: boolean; format?: 'text' | 'json'; tty: boolean }, steps: number[]) => {
    let t = 0;
    const out: string[] = [];
    const p = progressReporter({ quiet: opts.quiet ?? false, format: opts.format ?? 'text', tty: opts.tty, write: (s) => out.push(s), now: () => t });
    for (const ms of steps) {
      t = ms;
      p.update({ phase: 'read', bytesRead: ms * 10, bytesTotal: 100_000, rowsRead: ms, rowsWritten: 0, rowsToWrite: 0 });
    }
    p.done();
    return out;
  };

  it('draws a bar with percent, rate and ETA on a terminal', () => {
    const out = run({ tty: true }, [1000, 5000]);
    expect(out[1]).toMatch(/\[█+░*\]\s+50%\s+0\.1\/0\.1 MB\s+1,000 rows\/s\s+ETA 5s/);
    expect(out.at(-1)).toBe('\r\x1b[2K');
  });

  it('prints a plain line every 5 s off a terminal, NDJSON with --log-format json, nothing with --quiet', () => {
    expect(run({ tty: false }, [1000, 6000, 7000, 12000])).toHaveLength(2);
    const json = run({ tty: false, format: 'json' }, [3000, 4000, 6000]);
    expect(json.map((l) => JSON.parse(l).event)).toEqual(['progress', 'progress']);
    expect(run({ tty: true, quiet: true }, [1000, 9000])).toEqual([]);
  });

  it('shows the sort-and-write phase with its own counter, not a bar stuck at 100% of the reading', () => {
    const out: string[] = [];
    let t = 0;
    const p = progressReporter({ quiet: false, format: 'text', tty: true, write: (s) => out.push(s), now: () => t });
    p.update({ phase: 'read', bytesRead: 100_000, bytesTotal: 100_000, rowsRead: 1000, rowsWritten: 0, rowsToWrite: 0 });
    t = 1000;
    p.update({ phase: 'write', bytesRead: 100_000, bytesTotal: 100_000, rowsRead: 1000, rowsWritten: 250, rowsToWrite: 1000 });
    expect(out[0]).toMatch(/100%/);
    expect(out[1]).toMatch(/25%\s+sorting & writing 250 \/ 1,000 rows/);
    const json: string[] = [];
    let tj = 0;
    const pj = progressReporter({ quiet: false, format: 'json', tty: false, write: (s) => json.push(s), now: () => tj });
    tj = 5000;
    pj.update({ phase: 'write', bytesRead: 1, bytesTotal: 1, rowsRead: 10, rowsWritten: 4, rowsToWrite: 10 });
    expect(JSON.parse(json[0]!)).toMatchObject({ event: 'progress', phase: 'write', rowsWritten: 4, rowsToWrite: 10 });
  });
});
