import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What `npm pack` would ship, read from npm itself rather than from the `files` list. It packs a
// fresh build in a scratch copy of the package, as `prepack` (clean dist, then build) would, so
// stale outputs in the working dist/ neither hide nor fake a problem. tsc 7 builds in about a second.
const root = join(import.meta.dirname, '..', '..');
const STAND_INS = ['gcs-emulator', 'leanplum-simulator', 'http-util'];
const run = promisify(execFile);

let scratch: string;
let files: string[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lpb-pack-'));
  for (const f of ['package.json', 'README.md', 'LICENSE']) if (existsSync(join(root, f))) await copyFile(join(root, f), join(scratch, f));
  // type errors elsewhere are the typecheck's business; tsc emits regardless, and main.js is checked below
  await run(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    join(scratch, 'dist'),
  ]).catch(() => undefined);
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: scratch, maxBuffer: 16 << 20 });
  const report = JSON.parse(stdout) as { files: { path: string }[] }[];
  files = report[0]!.files.map((f) => f.path).sort();
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function tsSources(): Promise<string[]> {
  const src = join(root, 'src');
  return (await readdir(src, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'));
}

describe('npm pack ships the CLI and nothing else', () => {
  it('holds the CLI entry point and the package basics', () => {
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('package.json');
    expect(files).toContain('README.md');
  });

  it('holds no tests, scripts, samples, TypeScript sources, source maps or stand-ins', () => {
    const bad = files.filter(
      (f) =>
        /^(dist\/test|dist\/scripts|test|scripts|samples|src|runs)\//.test(f) ||
        /\.(ts|map)$/.test(f) ||
        STAND_INS.some((s) => posix.basename(f).startsWith(s)),
    );
    expect(bad).toEqual([]);
    const unexpected = files.filter((f) => !f.startsWith('dist/src/') && !['package.json', 'README.md'].includes(f) && !/^LICEN[CS]E/i.test(f));
    expect(unexpected).toEqual([]);
  });

  it('ships exactly one module per source file under src/', async () => {
    const expected = (await tsSources()).map((f) => `dist/${f.replace(/\.ts$/, '.js')}`).sort();
    expect(files.filter((f) => f.startsWith('dist/'))).toEqual(expected);
  });

  it('every relative import of a shipped module resolves to a shipped file', async () => {
    const shipped = new Set(files);
    const missing: string[] = [];
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const text = await readFile(join(scratch, f), 'utf8');
      for (const m of text.matchAll(/(?:^|\s)(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gm)) {
        const spec = m[1] ?? m[2]!;
        const target = posix.normalize(posix.join(dirname(f), spec));
        if (!shipped.has(target)) missing.push(`${f} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
