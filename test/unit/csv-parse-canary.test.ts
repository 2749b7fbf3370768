import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Parser } from 'csv-parse';
import { describe, expect, it } from 'vitest';

// src/input/input/csv/record-reader.ts drives csv-parse's push-based core (`Parser#api`, built by
// csv-parse/lib/api, which the package does not export) instead of its stream, for speed. Nothing in
// csv-parse promises that core, so the package is pinned to one exact version and this canary
// checks, with the reader's own options, every part of the core the reader relies on. When it
// fails after an upgrade: go back to the pinned version, or adapt RecordReader to the new internals
// (or to the public stream API) and pin the new version exactly.
const WHAT_TO_DO =
  'csv-parse internals used by src/input/input/csv/record-reader.ts changed. Revert csv-parse to the version pinned in package.json, ' +
  'or adapt RecordReader (start/feed) to the new internals and pin the new version exactly (npm install csv-parse@<version> --save-exact).';

interface Core {
  parse(buf: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void): Error | undefined;
}

const root = join(import.meta.dirname, '..', '..');
/** The version of the csv-parse that `import 'csv-parse'` resolves to from here. */
function installedVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('csv-parse'));
  for (;;) {
    const file = join(dir, 'package.json');
    const pkg = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }) : {};
    if (pkg.name === 'csv-parse' && pkg.version !== undefined) return pkg.version;
    if (dirname(dir) === dir) throw new Error('csv-parse/package.json not found above its entry point');
    dir = dirname(dir);
  }
}
const declared = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['csv-parse'];

/** The reader's options (RecordReader.start); `max_record_size` 0 is "no limit". */
function core(delimiter = ',', maxRecordBytes = 0): Core {
  const parser = new Parser({
    bom: true,
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    max_record_size: maxRecordBytes,
  });
  const api = (parser as unknown as { api?: Core }).api;
  expect(api, `Parser#api is gone. ${WHAT_TO_DO}`).toBeTypeOf('object');
  expect(api!.parse, `Parser#api.parse is not a function. ${WHAT_TO_DO}`).toBeTypeOf('function');
  expect(api!.parse.length, `Parser#api.parse no longer takes (buf, end, push, close). ${WHAT_TO_DO}`).toBe(4);
  return api!;
}

/** Feeds the chunks as the reader does (`end` only on a final undefined) and collects what comes out. */
function run(c: Core, chunks: (string | Buffer)[]) {
  const records: string[][] = [];
  const errors: (Error | undefined)[] = [];
  for (const ch of chunks)
    errors.push(
      c.parse(
        typeof ch === 'string' ? Buffer.from(ch) : ch,
        false,
        (r) => records.push(r),
        () => {},
      ),
    );
  errors.push(
    c.parse(
      undefined,
      true,
      (r) => records.push(r),
      () => {},
    ),
  );
  return { records, error: errors.find((e) => e !== undefined) };
}

describe('csv-parse canary (the internal core record-reader.ts calls)', () => {
  it('csv-parse is pinned to the exact version installed', () => {
    const installed = installedVersion();
    expect(declared, `package.json must pin csv-parse exactly (no ^ or ~): ${WHAT_TO_DO}`).toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed, `installed csv-parse ${installed} is not the pinned ${declared}: run npm ci. ${WHAT_TO_DO}`).toBe(declared);
  });

  it('hands over records synchronously, across chunk boundaries, with a final record only at end', () => {
    const c = core();
    const records: string[][] = [];
    expect(
      c.parse(
        Buffer.from('a,"b\nc'),
        false,
        (r) => records.push(r),
        () => {},
      ),
      WHAT_TO_DO,
    ).toBeUndefined();
    expect(records, `a record split across chunks was handed over early. ${WHAT_TO_DO}`).toEqual([]);
    expect(
      c.parse(
        Buffer.from('",d\r\ne,f\rg,h'),
        false,
        (r) => records.push(r),
        () => {},
      ),
      WHAT_TO_DO,
    ).toBeUndefined();
    // push runs inside parse(): the reader counts lines from what it has been handed when parse returns
    expect(records, `records are no longer pushed synchronously, or line endings are handled differently. ${WHAT_TO_DO}`).toEqual([
      ['a', 'b\nc', 'd'],
      ['e', 'f'],
    ]);
    // the reader ignores close(): end=true must flush the last record by itself
    expect(
      c.parse(
        undefined,
        true,
        (r) => records.push(r),
        () => {},
      ),
      WHAT_TO_DO,
    ).toBeUndefined();
    expect(records.at(-1), `the last record (no trailing newline) is not flushed at end. ${WHAT_TO_DO}`).toEqual(['g', 'h']);
  });

  it('skips a BOM, keeps ragged rows, tolerates a stray quote, splits on the given delimiter', () => {
    const { records, error } = run(core('\t'), [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('userId\tevent\nu1\topen\textra\nu2\tsay "hi"\n')]),
    ]);
    expect(error, WHAT_TO_DO).toBeUndefined();
    expect(records, `bom / relax_column_count / relax_quotes / delimiter behave differently. ${WHAT_TO_DO}`).toEqual([
      ['userId', 'event'],
      ['u1', 'open', 'extra'],
      ['u2', 'say "hi"'],
    ]);
  });

  it('returns (does not throw) an Error for an unclosed quote', () => {
    const c = core();
    let result: { error: Error | undefined } | undefined;
    expect(() => (result = run(c, ['a,b\n"never closed,x\n'])), `parse() now throws instead of returning the error. ${WHAT_TO_DO}`).not.toThrow();
    expect(result!.error, `an unclosed quote no longer comes back as an Error from parse(). ${WHAT_TO_DO}`).toBeInstanceOf(Error);
  });

  it('returns an Error with code CSV_MAX_RECORD_SIZE past max_record_size', () => {
    const { error } = run(core(',', 64), ['a,b\n"', 'x'.repeat(200), '\n']);
    expect((error as { code?: string } | undefined)?.code, `the record-size error code changed; record-reader.ts matches on it. ${WHAT_TO_DO}`).toBe(
      'CSV_MAX_RECORD_SIZE',
    );
  });
});
