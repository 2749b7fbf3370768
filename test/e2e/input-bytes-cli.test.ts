import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

// Issue 16, input bytes and headers, through the built CLI as a user runs it: bytes that are not
// UTF-8 stop the transform (never U+FFFD), --encoding decodes them, UTF-16 without a mark is named,
// headers in messages are escaped, duplicate header names a mapping uses are refused.

const T = Date.parse(IMPORT_AT) / 1000;
const iso = (s: number) => new Date(s * 1000).toISOString();
const WHEN = iso(T - 86400);
const latin1 = (s: string) => Buffer.from(s, 'latin1');

async function transform(input: string, ...extra: string[]) {
  const out = join(await tempDir(), 'out');
  const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, ...extra]);
  return { r, out };
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

function zip(entries: [string, Buffer][]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of entries) z.addBuffer(data, name, { mtime: new Date(0), compress: true });
  z.end();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => parts.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    z.outputStream.on('error', reject);
  });
}

describe('bytes that are not UTF-8 are never replaced (issue 16)', () => {
  const josCsv = latin1(`userId,event,time\nJos\xe9,open,${WHEN}\nJos\xe8,open,${WHEN}\n`);

  it('Latin-1 CSV: exit 2 naming the file, line, byte offset and byte, with the --encoding fix; nothing left behind', async () => {
    const dir = await tempDir();
    const input = join(dir, 'players.csv');
    await writeFile(input, josCsv);
    for (const env of [{}, { LP_BACKFILL_EXACT: '1' }]) {
      const out = join(dir, `out-${Object.keys(env).length}`);
      const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`[INPUT_MALFORMED]: "${input}" is not valid UTF-8: line 2, byte offset 21: byte E9`);
      expect(r.stderr).toContain('"Jos\\xE9,open,');
      expect(r.stderr).toContain('--encoding windows-1252|latin1|utf-16le|utf-16be');
      expect(r.stderr).not.toContain('\uFFFD');
      expect(await exists(join(out, 'clean.csv'))).toBe(false);
    }
  });

  it('--encoding latin1: two users, José and Josè, and the encoding in summary.json', async () => {
    const dir = await tempDir();
    const input = join(dir, 'players.csv');
    await writeFile(input, josCsv);
    const { r, out } = await transform(input, '--encoding', 'latin1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const clean = (await readFile(join(out, 'clean.csv'), 'utf8')).split('\n').slice(1, 3);
    expect(clean.map((l) => l.split(',')[0]).sort()).toEqual(['Josè', 'José']);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(summary.config.encoding).toBe('latin1');
    expect(summary.inputs[0].encoding).toBe('latin1');
    expect(summary.cost.distinctUsers).toBe(2);
  });

  it('NDJSON through gzip on standard input, a JSON array, and a zip entry: each stops on its first bad byte', async () => {
    const dir = await tempDir();
    const rec = (u: string) => `{"userId":"${u}","event":"caf\xe9","time":"${WHEN}"}`;
    const nd = latin1(`${rec('a')}\n${rec('b')}\n`.replace('caf\xe9', 'cafe'));
    const r1 = await runCli(['transform', '-', '--out', join(dir, 'o1'), '--import-at', IMPORT_AT], { stdin: gzipSync(nd) });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('"-" is not valid UTF-8: line 2, byte offset ');
    expect(r1.stderr).toContain('byte E9');

    const arr = join(dir, 'events.json');
    await writeFile(arr, latin1(`[\n${rec('a')},\n${rec('b')}\n]\n`));
    const r2 = await runCli(['transform', arr, '--out', join(dir, 'o2'), '--import-at', IMPORT_AT]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`"${arr}" is not valid UTF-8: line 2, byte offset 28: byte E9`);

    const z = join(dir, 'export.zip');
    await writeFile(
      z,
      await zip([
        ['a.csv', Buffer.from(`userId,event,time\nx,open,${WHEN}\n`)],
        ['b.csv.gz', gzipSync(josCsv)],
      ]),
    );
    const r3 = await runCli(['transform', z, '--out', join(dir, 'o3'), '--import-at', IMPORT_AT]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(`"${z}:b.csv.gz" is not valid UTF-8: line 2, byte offset 21: byte E9`);
  });

  it('UTF-16LE without a byte-order mark is named, with the flag; with it the rows are read', async () => {
    const dir = await tempDir();
    const input = join(dir, 'u16.csv');
    await writeFile(input, Buffer.from(`userId,event,time\r\nJosé,open,${WHEN}\r\n`, 'utf16le'));
    const bad = await transform(input);
    expect(bad.r.code).toBe(2);
    expect(bad.r.stderr).toContain(`"${input}" looks like UTF-16LE without a byte-order mark`);
    expect(bad.r.stderr).toContain('add --encoding utf-16le');
    expect(bad.r.stderr).not.toContain('\u0000');
    const good = await transform(input, '--encoding', 'utf-16le');
    expect(good.r.code).toBe(0);
    expect((await readFile(join(good.out, 'clean.csv'), 'utf8')).split('\n')[1]).toBe(`José,open,${T - 86400}`);
  });

  it('--encoding with a value it does not know is refused before any work', async () => {
    const dir = await tempDir();
    const input = join(dir, 'x.csv');
    await writeFile(input, `userId,event,time\nx,open,${WHEN}\n`);
    const { r } = await transform(input, '--encoding', 'ebcdic');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/encoding/);
    expect(r.stderr).toContain('ebcdic');
  });
});

describe('headers in messages (issue 16)', () => {
  it('a header with NUL and control characters is shown escaped, and never suggested as a --map value', async () => {
    const dir = await tempDir();
    const input = join(dir, 'odd.csv');
    await writeFile(input, `u\u0000s\u0000e\u0000r,event,time\u001b[31m\nx,open,${WHEN}\n`);
    const { r } = await transform(input);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('u\\u0000s\\u0000e\\u0000r,event,time\\u001B[31m');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: none may reach the terminal
    expect(r.stderr).not.toMatch(/[\u0000\u001b]/);
    expect(r.stderr).not.toContain('--map userId=u');
    expect(r.stderr).not.toContain('--map time=time');
  });
});

describe('duplicate header names (issue 16)', () => {
  it('level,level with --param level: refused (exit 2, BAD_HEADER) naming the name and its positions, not first-wins', async () => {
    const dir = await tempDir();
    const input = join(dir, 'dup.csv');
    await writeFile(input, `userId,event,time,level,level\nx,open,${WHEN},3,4\n`);
    const { r, out } = await transform(input, '--param', 'level');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[BAD_HEADER]');
    expect(r.stderr).toContain('"level" is the name of columns 4 and 5');
    expect(r.stderr).toContain('Rename the columns in the export');
    expect(await exists(join(out, 'clean.csv'))).toBe(false);
  });

  it('names differing only in case are one match each by their exact name, and ambiguous otherwise', async () => {
    const dir = await tempDir();
    const input = join(dir, 'case.csv');
    await writeFile(input, `userId,event,time,Level,level\nx,open,${WHEN},3,4\n`);
    const exact = await transform(input, '--param', 'level');
    expect(exact.r.code).toBe(0);
    expect((await readFile(join(exact.out, 'clean.csv'), 'utf8')).split('\n')[1]).toBe(`x,open,${T - 86400},4`);
    const loose = await transform(input, '--param', 'LEVEL');
    expect(loose.r.code).toBe(2);
    expect(loose.r.stderr).toContain('"LEVEL" matches columns 4 and 5 (Level, level)');
  });

  it('JSON: a record with a key twice reads as JSON.parse reads it, the last value (documented), the same on both paths', async () => {
    const dir = await tempDir();
    const input = join(dir, 'dup.ndjson');
    await writeFile(input, `{"userId":"a","event":"first","event":"last","time":"${WHEN}"}\n`);
    for (const env of [{}, { LP_BACKFILL_EXACT: '1' }]) {
      const out = join(dir, `out-${Object.keys(env).length}`);
      const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT], { env });
      expect(r.code).toBe(0);
      expect((await readFile(join(out, 'clean.csv'), 'utf8')).split('\n')[1]).toBe(`a,last,${T - 86400}`);
    }
  });

  it('duplicate names no flag uses are left out, as any unused column', async () => {
    const dir = await tempDir();
    const input = join(dir, 'trailing.csv');
    await writeFile(input, `userId,event,time,,\nx,open,${WHEN},,\n`);
    const { r } = await transform(input);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
