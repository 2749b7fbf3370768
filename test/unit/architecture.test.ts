import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/run.js';

// DESIGN.md, "Modules", as the tree says it (issue "Layout"): the data flows down the layers
//   cli → pipeline (the orchestrator) → sinks (csv-job, api) → transform / run / report
//       → input / presets → gcs / leanplum / files / time / events → model / config / errors.
// A module may import its own layer or lower ones (type-only imports may point up: shapes, not calls).
// Pure modules do no I/O, and only the CLI layer touches argv, env, stdout/stderr or exits.
const LAYER: Readonly<Record<string, number>> = {
  cli: 6,
  pipeline: 5,
  sinks: 4,
  transform: 3,
  run: 3,
  report: 3,
  input: 2,
  presets: 2,
  gcs: 1,
  leanplum: 1,
  files: 1,
  time: 1,
  events: 1,
  model: 0,
  'config.ts': 0,
  'errors.ts': 0,
  'version.ts': 0,
};
const PURE = new Set(['time', 'events']);

async function sources(): Promise<{ path: string; text: string }[]> {
  const dir = join(repoRoot, 'src');
  const out: { path: string; text: string }[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) {
      const full = join(e.parentPath, e.name);
      out.push({ path: relative(dir, full), text: await readFile(full, 'utf8') });
    }
  }
  return out;
}

const top = (path: string) => path.split('/')[0]!;
const importsOf = (text: string) =>
  [...text.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!).concat([...text.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]!));

describe('architecture (DESIGN.md)', () => {
  it('every module sits in a known layer', async () => {
    for (const f of await sources()) expect(LAYER[top(f.path)], f.path).toBeDefined();
  });

  it('dependencies point inward', async () => {
    const problems: string[] = [];
    for (const f of await sources()) {
      const from = LAYER[top(f.path)]!;
      for (const spec of importsOf(f.text)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(join(repoRoot, 'src'), join(repoRoot, 'src', f.path, '..', spec)).replace(/\.js$/, '.ts');
        const to = LAYER[top(target)];
        // type-only imports describe shapes, not calls; the report collector implements a pipeline interface
        const typeOnly = new RegExp(`import type [^;]*'${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`).test(f.text);
        if (to !== undefined && to > from && !typeOnly) problems.push(`${f.path} → ${target}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('no import cycles between modules, type-only imports included', async () => {
    const files = await sources();
    const graph = new Map<string, string[]>();
    for (const f of files) {
      graph.set(
        f.path,
        importsOf(f.text)
          .filter((spec) => spec.startsWith('.'))
          .map((spec) => relative(join(repoRoot, 'src'), join(repoRoot, 'src', f.path, '..', spec)).replace(/\.js$/, '.ts')),
      );
    }
    // depth-first search; a back edge is a cycle, reported as the chain of modules
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string) => {
      state.set(n, 'open');
      stack.push(n);
      for (const m of graph.get(n) ?? []) {
        if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m].join(' → '));
        else if (!state.has(m)) visit(m);
      }
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of graph.keys()) if (!state.has(n)) visit(n);
    expect(cycles).toEqual([]);
  });

  it('no cycles between directories either, type-only imports included (report/ reads documents from model/, not pipeline/)', async () => {
    const edges = new Set<string>();
    for (const f of await sources()) {
      for (const spec of importsOf(f.text)) {
        if (!spec.startsWith('.')) continue;
        const [from, to] = [top(f.path), top(relative(join(repoRoot, 'src'), join(repoRoot, 'src', f.path, '..', spec)))];
        if (from !== to) edges.add(`${from} → ${to}`);
      }
    }
    const both = [...edges].filter((e) => edges.has(e.split(' → ').reverse().join(' → ')));
    expect(both).toEqual([]);
  });

  it('start-up stays light: what `transform` loads never reaches the GCS or Leanplum clients, nor the whole date-fns', async () => {
    const files = new Map((await sources()).map((f) => [f.path, f.text]));
    // static imports only: `import('…')` is how commands load on demand
    const staticImports = (text: string) => [...text.matchAll(/^import\s(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
    const reached = new Set<string>();
    const walk = (path: string) => {
      if (reached.has(path)) return;
      reached.add(path);
      for (const spec of staticImports(files.get(path) ?? '')) {
        if (spec.startsWith('.')) walk(relative(join(repoRoot, 'src'), join(repoRoot, 'src', path, '..', spec)).replace(/\.js$/, '.ts'));
        else reached.add(spec);
      }
    };
    walk('cli/main.ts');
    walk('cli/commands/transform.ts');
    const heavy = [...reached].filter((x) => x.startsWith('@google-cloud/') || x === 'date-fns' || x === 'leanplum/client.ts' || x === 'gcs/storage.ts');
    expect(heavy).toEqual([]);
    expect(reached.has('cli/commands/cloud.ts')).toBe(false);
  });

  it('pure modules (time/, events/) do no I/O', async () => {
    const bad = (await sources()).filter((f) => PURE.has(top(f.path)) && /from 'node:(fs|net|http|https|child_process|readline)/.test(f.text));
    expect(bad.map((f) => f.path)).toEqual([]);
  });

  it('the stand-ins live under test/, outside the shipped sources', async () => {
    // They were once src/emulators/: inside src/ they ship in the package and can drift into sharing the tool's code.
    const files = await sources();
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => top(f.path) === 'emulators').map((f) => f.path)).toEqual([]);
    expect(files.filter((f) => importsOf(f.text).some((s) => s.includes('/test/') || s.includes('stand-ins'))).map((f) => f.path)).toEqual([]);
  });

  it('only the CLI layer reads argv or env, prints, or exits', async () => {
    const bad = (await sources()).filter((f) => top(f.path) !== 'cli' && /process\.(argv|env|exit|stdout|stderr)|console\./.test(f.text));
    expect(bad.map((f) => f.path)).toEqual([]);
  });
});
