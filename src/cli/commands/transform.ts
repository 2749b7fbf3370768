import { transformRun, type TransformDeps } from '../../pipeline/transform-run.js';
import type { TransformStageResult } from '../../pipeline/transform-stage.js';
import type { TransformCommandOptions } from '../command-options.js';
import { logEvent, progressFor, stdinSource } from '../context.js';
import { renderShown } from '../render.js';

/** The GCS client for gs:// inputs, loaded only when an input needs it (STORAGE_EMULATOR_HOST points it at an emulator). */
export async function inputStorage() {
  const { makeStorage } = await import('../../gcs/storage.js');
  return makeStorage({ apiEndpoint: process.env['STORAGE_EMULATOR_HOST'] || undefined, projectId: process.env['GOOGLE_CLOUD_PROJECT'] || undefined });
}

/** LP_BACKFILL_EXACT=1 turns the reader's fast path off (for a user who suspects it; the outputs are meant to be identical). */
export function fastPathFromEnv(): boolean {
  return process.env['LP_BACKFILL_EXACT'] !== '1';
}

/** transform and preview: the same run (pipeline/transform-run.ts); preview always writes the report and may sample. */
export async function transformCommand(o: TransformCommandOptions, mode: 'transform' | 'preview'): Promise<TransformStageResult> {
  const deps: TransformDeps = {
    now: () => new Date(),
    progress: progressFor(o),
    stdin: stdinSource(o.inputs),
    inputStorage,
    fastPath: fastPathFromEnv(),
    show: (x) =>
      renderShown(
        x,
        o,
        (text) => process.stdout.write(text),
        (event, fields, text) => logEvent(o, event, fields, text),
      ),
  };
  return transformRun(o, mode, deps);
}
