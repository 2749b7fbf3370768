import { buildTransformConfig } from '../../pipeline/transform-config.js';
import { BackfillError } from '../../errors.js';
import { loadManifest } from '../../pipeline/manifest.js';
import { recordTransform } from '../../pipeline/run-state.js';
import { transformWithReport, type ReportedResult } from '../../pipeline/transform-with-report.js';
import { inputsOf, progressFor, stdinSource, type Args } from '../context.js';
import { rawTransformOptions } from '../options.js';
import { renderTransformSummary } from '../render.js';

/**
 * transform and preview: the same run; preview always writes the report and may sample.
 * `run` starts with it too ('run': report always on, and a refusal says nothing was uploaded).
 */
export async function transformCommand(a: Args, mode: 'transform' | 'preview' | 'run'): Promise<ReportedResult> {
  const input = inputsOf(a);
  const cfg = buildTransformConfig(rawTransformOptions(a, input), new Date());
  const existing = await loadManifest(cfg.outDir);
  if (existing?.parts.some((p) => p.upload || p.launch)) {
    throw new BackfillError('CONFIG_INVALID', `${cfg.outDir} holds run ${existing.runId}, already uploaded or launched: transforming into it would lose track of that`, 'Use a new --out directory.');
  }
  const progress = progressFor(a);
  const source = stdinSource(input);
  let result: ReportedResult;
  try {
    result = await transformWithReport(cfg, {
      ...(source ? { source } : {}),
      report: mode !== 'transform' || a['report'] !== false,
      onProgress: progress.update,
    });
  } finally {
    progress.done();
  }
  const { summary, reportPath } = result;
  await recordTransform(cfg.outDir, summary, new Date());
  process.stdout.write(renderTransformSummary(summary, cfg.outDir, new Date()) + '\n');
  if (reportPath !== undefined) process.stdout.write(`report     ${reportPath}\n`);
  if (result.report !== undefined && mode === 'preview') {
    for (const w of result.report.warnings) process.stdout.write(`warning    ${w.message}\n`);
  }
  if (summary.rejectRateExceeded) {
    throw new BackfillError(
      'REJECT_RATE',
      `${summary.counts.rejected} of ${summary.counts.read} rows were rejected (${(summary.rejectRate * 100).toFixed(2)}%), above --max-reject-rate ${summary.config.maxRejectRate}`,
      `${mode === 'run' ? 'Nothing was uploaded. ' : ''}All outputs were written. Look at ${cfg.outDir}/rejects.csv, fix the mapping or the data, or raise --max-reject-rate${mode === 'run' ? ', then run again in a new --out directory' : ''}.`,
    );
  }
  return result;
}
