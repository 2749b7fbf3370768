import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformConfig } from '../transform/transform-config.js';
import { ReportCollector } from '../report/collector.js';
import { renderReportHtml } from '../report/html.js';
import { buildReport, type Report } from '../report/model.js';
import { writeJsonAtomic } from '../files/json-file.js';
import { runTransform, type TransformIO, type TransformResult } from '../transform/transform.js';

export interface ReportedResult extends TransformResult {
  report: Report | undefined;
  reportPath: string | undefined;
}

/** The transform plus, unless turned off, report.json and report.html beside its outputs. */
export async function transformWithReport(cfg: TransformConfig, io: TransformIO & { report?: boolean; now?: () => Date } = {}): Promise<ReportedResult> {
  const collector = io.report === false ? undefined : new ReportCollector(cfg.rule);
  const result = await runTransform(cfg, collector ? { ...io, observer: collector } : io);
  if (collector === undefined) return { ...result, report: undefined, reportPath: undefined };
  const report = buildReport(result.summary, collector, (io.now ?? (() => new Date()))());
  await writeJsonAtomic(join(cfg.outDir, 'report.json'), report);
  const reportPath = join(cfg.outDir, 'report.html');
  await writeFile(reportPath, renderReportHtml(report));
  return { ...result, report, reportPath };
}
