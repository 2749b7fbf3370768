import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodedChunks } from '../../src/input/open-input.js';
import { PartWriter } from '../../src/transform/part-writer.js';
import { BackfillError, exitCodeOf } from '../../src/errors.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { runTransform, type TransformIO } from '../../src/transform/transform.js';
import type { RawTransformOptions } from '../../src/config.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

async function transformText(text: string, opts: Partial<RawTransformOptions> = {}, io: TransformIO = {}) {
  const dir = await tempDir();
  const input = join(dir, 'in.csv');
  await writeFile(input, text);
  const out = join(dir, 'out');
  const cfg = buildTransformConfig({ input, out, importAt: IMPORT_AT, maxRejectRate: 1, ...opts }, new Date());
  return { out, result: await runTransform(cfg, io) };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('backpressure from the clean CSV writer', () => {
  // --order input streams rows to the writer as they are expanded; --order user expands them into
  // the sort (which spills in the middle of a row under a small --sort-memory) and writes after the merge
  it.each([
    ['input', {}],
    ['user', { sortMemory: '256KB' }],
  ] as const)('is honoured inside an expanded row (--order %s): add() is never called again before the flush it asked for', async (order, extra) => {
    const stats = { violations: 0, flushes: 0, maxBuffered: 0 };
    class Strict extends PartWriter {
      private owed = false;
      private pending = 0;
      override add(line: string, user?: string): boolean {
        if (this.owed) stats.violations++;
        this.pending += line.length;
        stats.maxBuffered = Math.max(stats.maxBuffered, this.pending);
        this.owed = super.add(line, user);
        return this.owed;
      }
      override async flush(): Promise<void> {
        this.owed = false;
        this.pending = 0;
        stats.flushes++;
        await super.flush();
      }
    }
    const rows = ['u1,open,2026-10-01T00:00:00Z,20000', 'u2,buy,2026-10-02T00:00:00Z,1', 'u3,open,2026-10-03T00:00:00Z,30000'];
    const { out, result } = await transformText(
      `userId,event,time,n\n${rows.join('\n')}\n`,
      { countColumn: 'n', order, ...extra },
      { testSeams: { partWriter: (d, h, m, o) => new Strict(d, h, m, o) } },
    );
    expect(stats.violations).toBe(0);
    // one input chunk, yet the writer was flushed many times, while the rows were being expanded
    expect(stats.flushes).toBeGreaterThan(10);
    expect(stats.maxBuffered).toBeLessThan(1 << 17);
    expect(result.summary.counts).toMatchObject({ occurrences: 50_001, written: 50_001, lineIndexEntries: 50_001 });
    const clean = (await readFile(join(out, 'clean.csv'), 'utf8')).trimEnd().split('\n');
    expect(clean).toHaveLength(1 + 50_001);
    // input order (which is also user order here) kept across the waits: u1's rows, then u2, then u3's
    expect(clean.slice(1).map((l) => l.split(',')[0])).toEqual([...Array(20_000).fill('u1'), 'u2', ...Array(30_000).fill('u3')]);
    expect((await stat(join(out, 'clean.lines'))).size).toBe(8 * 50_001);
    if (order === 'user') expect(result.summary.sort!.runs).toBeGreaterThan(2);
  });

  it('keeps --original-time-param on the rows written after a wait', async () => {
    const { out } = await transformText('userId,event,time,n\nu1,open,2024-01-01T00:00:00Z,5000\n', { countColumn: 'n', originalTimeParam: 'orig' });
    const clean = (await readFile(join(out, 'clean.csv'), 'utf8')).trimEnd().split('\n');
    expect(clean).toHaveLength(1 + 5000);
    expect(new Set(clean.slice(1))).toEqual(new Set([`u1,open,${Date.parse(IMPORT_AT) / 1000 - 360 * 86400},2024-01-01T00:00:00Z`]));
  });
});

describe('--max-record-bytes', () => {
  // line 2 holds a legitimate two-line quoted field, so the broken record starts on physical line 5
  const head =
    'userId,event,time,note\nu1,open,2026-10-01T00:00:00Z,"two\nlines"\nu2,open,2026-10-01T00:00:00Z,ok\nu3,open,2026-10-01T00:00:00Z,"never closed\n';
  const tail = 'u4,open,2026-10-01T00:00:00Z,fine\n'.repeat(20_000);

  it('stops at a quote never closed, with exit 2, the line where the record started, and how to fix it', async () => {
    const e = await failure(transformText(head + tail, { param: ['note'], maxRecordBytes: 4096 }));
    expect(e).toBeInstanceOf(BackfillError);
    const err = e as BackfillError;
    expect(err.code).toBe('INPUT_MALFORMED');
    expect(exitCodeOf(err.code)).toBe(2);
    expect(err.message).toContain('the record starting on line 5 is larger than --max-record-bytes 4096');
    expect(err.hint).toContain('Close the quote on line 5');
    expect(err.hint).toContain('raise --max-record-bytes');
  });

  it('accepts a large record within the limit', async () => {
    const big = 'x'.repeat(3000);
    const { result } = await transformText(`userId,event,time,note\nu1,open,2026-10-01T00:00:00Z,"${big}"\n`, { param: ['note'], maxRecordBytes: 4096 });
    expect(result.summary.counts.kept).toBe(1);
  });

  it('is validated with the other options', () => {
    expect(() => buildTransformConfig({ input: 'x.csv', out: 'o', maxRecordBytes: 10 }, new Date())).toThrow(
      /max-record-bytes: expected a size of at least 1024 bytes, .*found 10/,
    );
  });
});

describe('gzip input', () => {
  async function drain(chunks: AsyncIterable<Buffer>): Promise<number> {
    let n = 0;
    for await (const c of chunks) n += c.length;
    return n;
  }

  it('a read error of the source ends decompression with that error, instead of waiting forever', async () => {
    const gz = gzipSync(Buffer.from('userId,event,time\n'.repeat(50_000)));
    async function* failing(): AsyncGenerator<Buffer> {
      yield gz.subarray(0, 1000);
      throw new Error('EIO: the disk went away');
    }
    const e = await failure(drain(decodedChunks(failing())));
    expect(e).toBeInstanceOf(BackfillError);
    expect((e as BackfillError).code).toBe('INPUT_UNREADABLE');
    expect((e as BackfillError).message).toContain('EIO: the disk went away');
  });

  it('a truncated file is reported as one that cannot be decompressed', async () => {
    const gz = gzipSync(Buffer.from('userId,event,time\n'.repeat(50_000)));
    async function* truncated(): AsyncGenerator<Buffer> {
      yield gz.subarray(0, gz.length - 100);
    }
    const e = await failure(drain(decodedChunks(truncated())));
    expect((e as BackfillError).message).toContain('cannot be decompressed');
  });
});
