import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderReportHtml } from '../report/html.js';
import type { Report } from '../report/model.js';
import type { ResultsSummary } from './cloud.js';
import { readJson, writeJsonAtomic } from './json-file.js';
import { emptyManifest, loadManifest, saveManifest, type Manifest } from './manifest.js';
import type { TransformSummary } from './transform.js';

/** After a transform: the manifest gets the transform stage and one entry per clean part. */
export async function recordTransform(dir: string, summary: TransformSummary, now: Date): Promise<Manifest> {
  const m = (await loadManifest(dir)) ?? emptyManifest(now);
  m.transform = {
    at: now.toISOString(),
    inputs: summary.inputs.map((i) => ({ name: i.name, bytes: i.bytes, sha256: i.sha256 })),
    importAt: summary.config.importAt,
    staleAfter: summary.config.staleAfter,
    rejectRateExceeded: summary.rejectRateExceeded,
  };
  m.parts = summary.outputs.clean.map((p) => ({ file: p.file, rows: p.rows, bytes: p.bytes }));
  await saveManifest(dir, m, now);
  return m;
}

/** The job results join the preview report (json and html), so one page tells the whole story. */
export async function attachResults(dir: string, results: readonly ResultsSummary[], m: Manifest): Promise<void> {
  const report = await readJson<Report>(join(dir, 'report.json'));
  if (!report) return;
  report.results = {
    jobs: results.map((r) => ({ ...r })),
    exposure: m.parts.filter((p) => p.public).map((p) => ({ part: p.file, since: p.public!.since, until: p.public!.until ?? null, exposedSeconds: p.public!.exposedSeconds ?? null })),
  };
  await writeJsonAtomic(join(dir, 'report.json'), report);
  await writeFile(join(dir, 'report.html'), renderReportHtml(report));
}
