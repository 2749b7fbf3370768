import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import type { RawTransformOptions } from '../../src/config.js';
import { runTransform } from '../../src/transform/transform.js';

export const IMPORT_AT = '2026-11-20T00:00:00Z';
/** One real clock for every transform of a test file: runs that are compared byte for byte must record the same one. */
export const CLOCK = new Date();

export const repoRoot = join(import.meta.dirname, '..', '..');
export const sample = (name: string) => join(repoRoot, 'samples', name);

// Temp directories live as long as what made them: one made inside a test is removed after that
// test, one made in beforeAll after the whole file (test/setup.ts drives both).
const made = { test: [] as string[], file: [] as string[] };
let inTest = false;

export async function tempDir(prefix = 'lpb-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  (inTest ? made.test : made.file).push(dir);
  return dir;
}

export const tempDirs = {
  testStarts(): void {
    inTest = true;
  },
  async testEnded(): Promise<void> {
    inTest = false;
    await Promise.all(made.test.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  },
  async fileEnded(): Promise<void> {
    await Promise.all(made.file.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  },
};

/** Runs the transform in-process, as the CLI would, and reads back its three outputs. */
export async function transformFile(input: string, opts: Partial<RawTransformOptions> = {}) {
  const out = opts.out ?? (await tempDir());
  const cfg = buildTransformConfig({ importAt: IMPORT_AT, maxRejectRate: 1, ...opts, input, out }, CLOCK);
  const result = await runTransform(cfg);
  return { out, ...result, ...(await readOutputs(out)) };
}

export async function readOutputs(out: string) {
  const clean = parse(await readFile(join(out, 'clean.csv')), { columns: true, bom: false }) as Record<string, string>[];
  const rejects = parse(await readFile(join(out, 'rejects.csv')), { columns: true, relax_column_count: true }) as Record<string, string>[];
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  return { clean, rejects, summaryJson: summary };
}
