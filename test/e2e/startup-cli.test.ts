import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, tempDir } from '../helpers/run.js';

// Issue 21 (start-up): a plain CSV transform loads only what it uses. date-fns (its pattern reader:
// ~90 modules), @date-fns/tz and csv-parse were loaded at every start; now the first --time-format
// pattern, zone other than UTC, or quote the fast path cannot split loads them. The built CLI runs
// with a preload that lists every module loaded: ESM through a resolve hook, CommonJS (how the lazy
// loads come in) from the require cache at exit.

async function modulesLoaded(args: (dir: string) => string[], csv: string): Promise<{ code: number | null; modules: string[]; dir: string }> {
  const dir = await tempDir();
  const log = join(dir, 'modules.log');
  const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`;
  const preload = join(dir, 'preload.mjs');
  await writeFile(
    preload,
    `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});
process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n'));
`,
  );
  await writeFile(join(dir, 'in.csv'), csv);
  const r = await runCli(args(dir), { env: { NODE_OPTIONS: `--import=${preload}` } });
  expect(r.stderr).not.toMatch(/error/);
  return { code: r.code, modules: (await readFile(log, 'utf8')).split('\n').filter((x) => x !== ''), dir };
}

const loads = (modules: string[], pkg: string) => modules.some((m) => m.includes(`/node_modules/${pkg}/`));

describe('start-up: a transform loads only what it uses', () => {
  it('a header-only CSV: no date-fns, no @date-fns/tz, no csv-parse', async () => {
    const r = await modulesLoaded((d) => ['transform', join(d, 'in.csv'), '--out', join(d, 'out'), '--import-at', IMPORT_AT, '--quiet'], 'userId,event,time\n');
    expect(r.code).toBe(0);
    expect(loads(r.modules, 'yargs')).toBe(true); // the list is real
    expect(loads(r.modules, 'date-fns')).toBe(false);
    expect(loads(r.modules, '@date-fns/tz')).toBe(false);
    expect(loads(r.modules, 'csv-parse')).toBe(false);
  });

  it('a pattern, a zone and a quoted line break load them, and the rows come out right', async () => {
    const r = await modulesLoaded(
      (d) => [
        'transform',
        join(d, 'in.csv'),
        '--out',
        join(d, 'out'),
        '--import-at',
        IMPORT_AT,
        '--time-format',
        'yyyy/MM/dd HH:mm',
        '--tz',
        'America/New_York',
        '--param',
        'note',
        '--order',
        'input',
        '--quiet',
      ],
      'userId,event,time,note\nu1,open,2026/06/01 08:00,"two\nlines"\n',
    );
    expect(r.code).toBe(0);
    expect(loads(r.modules, 'date-fns')).toBe(true);
    expect(loads(r.modules, '@date-fns/tz')).toBe(true);
    expect(loads(r.modules, 'csv-parse')).toBe(true);
    const clean = await readFile(join(r.dir, 'out', 'clean.csv'), 'utf8');
    // 08:00 in New York on 1 June 2026 (EDT, UTC-4) is 12:00 UTC
    expect(clean).toContain(`${Date.parse('2026-06-01T12:00:00Z') / 1000}`);
    expect(clean).toContain('"two\nlines"');
  });
});
