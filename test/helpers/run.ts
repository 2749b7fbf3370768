import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildTransformConfig } from '../../src/pipeline/transform-config.js';
import type { RawTransformOptions } from '../../src/config.js';
import { runTransform } from '../../src/pipeline/transform.js';

export const IMPORT_AT = '2026-11-20T00:00:00Z';
export const repoRoot = join(import.meta.dirname, '..', '..');
export const sample = (name: string) => join(repoRoot, 'samples', name);

export async function tempDir(prefix = 'lpb-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Runs the transform in-process, as the CLI would, and reads back its three outputs. */
export async function transformFile(input: string, opts: Partial<RawTransformOptions> = {}) {
  const out = opts.out ?? (await tempDir());
  const cfg = buildTransformConfig({ importAt: IMPORT_AT, maxRejectRate: 1, ...opts, input, out }, new Date());
  const result = await runTransform(cfg);
  return { out, ...result, ...(await readOutputs(out)) };
}

export async function readOutputs(out: string) {
  const clean = parse(await readFile(join(out, 'clean.csv')), { columns: true, bom: false }) as Record<string, string>[];
  const rejects = parse(await readFile(join(out, 'rejects.csv')), { columns: true, relax_column_count: true }) as Record<string, string>[];
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
  return { clean, rejects, summaryJson: summary };
}
