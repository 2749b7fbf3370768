import { BackfillError } from '../../errors.js';
import { withRunLock, type RunLock } from '../../run/lock.js';
import { transformStage, type TransformStageResult } from '../../pipeline/transform-stage.js';
import type { TransformCommandOptions } from '../command-options.js';
import { progressFor, stdinSource } from '../context.js';
import { describeRepeat } from '../flags.js';
import { renderTransformSummary } from '../render.js';

/** The GCS client for gs:// inputs, loaded only when an input needs it (STORAGE_EMULATOR_HOST points it at an emulator). */
async function inputStorage() {
  const { makeStorage } = await import('../../gcs/storage.js');
  return makeStorage({ apiEndpoint: process.env['STORAGE_EMULATOR_HOST'] || undefined, projectId: process.env['GOOGLE_CLOUD_PROJECT'] || undefined });
}

/** LP_BACKFILL_EXACT=1 turns the reader's fast path off (for a user who suspects it; the outputs are meant to be identical). */
export function fastPathFromEnv(): boolean {
  return process.env['LP_BACKFILL_EXACT'] !== '1';
}

/** transform and preview: the same run; preview always writes the report and may sample. */
export async function transformCommand(o: TransformCommandOptions, mode: 'transform' | 'preview'): Promise<TransformStageResult> {
  return withRunLock(o.config.outDir, mode, (lock) => transformLocked(o, mode, lock), { create: true });
}

/**
 * The transform stage under a lock the caller holds (`run` holds it from start to end), with
 * progress and the printed summary. 'run': report always on, and a refusal says nothing was uploaded.
 */
export async function transformLocked(o: TransformCommandOptions, mode: 'transform' | 'preview' | 'run', lock: RunLock): Promise<TransformStageResult> {
  const cfg = o.config;
  const progress = progressFor(o);
  const source = stdinSource(o.inputs);
  let result: TransformStageResult;
  try {
    result = await transformStage(lock, cfg, {
      ...(source ? { source } : {}),
      storage: inputStorage,
      fastPath: fastPathFromEnv(),
      report: o.report,
      onProgress: progress.update,
    });
  } finally {
    progress.done();
  }
  const { summary, reportPath } = result;
  process.stdout.write(renderTransformSummary(summary, cfg.outDir, new Date()) + '\n');
  for (const r of o.repeats) process.stdout.write(`options    ${describeRepeat(r)}: ${JSON.stringify(r.used)}\n`);
  if (reportPath !== undefined) process.stdout.write(`report     ${reportPath}\n`);
  if (result.report !== undefined && mode === 'preview') {
    for (const w of result.report.warnings) process.stdout.write(`warning    ${w.message}\n`);
  }
  if (summary.sampled !== null) {
    process.stdout.write(`sampled    only the first ${summary.sampled} row(s) were read: this output is a preview and can never be uploaded or launched\n`);
  }
  if (summary.rejectRateExceeded) {
    throw new BackfillError(
      'REJECT_RATE',
      `${summary.counts.rejected} of ${summary.counts.read} rows were rejected (${(summary.rejectRate * 100).toFixed(2)}%), above --max-reject-rate ${summary.config.maxRejectRate}`,
      `${mode === 'run' ? 'Nothing was uploaded. ' : ''}All outputs were written. Look at ${cfg.outDir}/rejects.csv, fix the mapping or the data, or raise --max-reject-rate, then transform again${mode === 'run' ? ' (upload and launch refuse this output)' : ''}.`,
    );
  }
  return result;
}
