import { join } from 'node:path';
import { renderReportHtml } from '../../report/html.js';
import type { Report } from '../../report/model.js';
import type { Manifest } from '../../model/manifest.js';
import type { ResultsSummary } from '../../model/results.js';
import { readJson, writeFileDurable, writeJsonAtomic } from '../../files/json-file.js';
import type { RunLock } from '../../run/lock.js';

/** The job results join the preview report (json and html), so one page tells the whole story. */
export async function attachResults(lock: RunLock, results: readonly ResultsSummary[], m: Manifest): Promise<void> {
  const report = await readJson<Report>(join(lock.dir, 'report.json'));
  if (!report) return;
  report.results = {
    jobs: results.map((r) => ({ ...r })),
    exposure: m.parts
      .flatMap((p) => [...(p.history ?? []).map((h) => h.public), p.public].map((pub) => ({ part: p.file, pub })))
      .filter((x): x is { part: string; pub: NonNullable<typeof x.pub> } => x.pub !== undefined)
      .map(({ part, pub }) => ({ part, since: pub.since, until: pub.until ?? null, exposedSeconds: pub.exposedSeconds ?? null })),
  };
  await writeJsonAtomic(join(lock.dir, 'report.json'), report);
  await writeFileDurable(join(lock.dir, 'report.html'), renderReportHtml(report));
}
