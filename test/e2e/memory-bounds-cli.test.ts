import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

describe('lp-backfill transform --max-record-bytes', () => {
  it('an unclosed quote on line 2 of a large file: exit 2 at once, naming the line and both fixes', async () => {
    const dir = await tempDir();
    const input = join(dir, 'broken.csv');
    const row = 'u1,app_open,2026-10-01T00:00:00Z\n';
    await writeFile(input, 'userId,event,time\nu0,app_open,"2026-10-01\n' + row.repeat(100_000));
    const out = join(dir, 'out');
    const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, '--max-record-bytes', '65536']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[INPUT_MALFORMED]');
    expect(r.stderr).toContain('the record starting on line 2 is larger than --max-record-bytes 65536 (64 KiB)');
    expect(r.stderr).toMatch(/how to fix: Close the quote on line 2 .*raise --max-record-bytes/);
    // nothing that looks like a finished run is left behind
    expect((await readdir(out).catch(() => [])).filter((f) => f === 'summary.json')).toEqual([]);
  });

  it('refuses a limit below 1 KiB as a usage error', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    await writeFile(input, 'userId,event,time\nu1,open,2026-10-01T00:00:00Z\n');
    const r = await runCli(['transform', input, '--out', join(dir, 'out'), '--import-at', IMPORT_AT, '--max-record-bytes', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('max-record-bytes: expected a size of at least 1024 bytes');
    expect(r.stderr).toContain('found "100"');
  });
});
