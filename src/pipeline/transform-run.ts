import type { Storage } from '@google-cloud/storage';
import { BackfillError } from '../errors.js';
import type { InputSource } from '../input/open-input.js';
import type { Manifest } from '../model/manifest.js';
import type { ResultsSummary } from '../model/results.js';
import { type RunLock, withRunLock } from '../run/lock.js';
import type { ApiSendSummary } from '../sinks/api/send-stage.js';
import type { TransformConfig } from '../transform/transform-config.js';
import type { Progress } from '../transform/transform.js';
import { transformStage, type TransformStageResult } from './transform-stage.js';

// The transform as a command of its own (transform, preview) and as the first stage of `run`:
// the stage, then the reject-rate stop. Kept apart from run.ts so that a transform never loads the
// GCS and Leanplum clients (test/unit/architecture.test.ts).

export type TransformMode = 'transform' | 'preview' | 'run';

export interface TransformRunOptions {
  config: TransformConfig;
  /** write report.json and report.html */
  report: boolean;
}

/** What a stage hands the CLI to show as soon as it has it (the CLI renders; the pipeline never prints). */
export type Shown =
  | { stage: 'transformed'; dir: string; mode: TransformMode; result: TransformStageResult }
  | { stage: 'jobs'; results: ResultsSummary[] }
  | { stage: 'results'; dir: string }
  | { stage: 'sent'; dir: string; summary: ApiSendSummary };

export interface TransformDeps {
  now: () => Date;
  progress: { update: (p: Progress) => void; done: () => void };
  /** standard input, when the one input is "-" */
  stdin: InputSource | undefined;
  /** the GCS client for gs:// inputs, made on demand (heavy to load) */
  inputStorage: () => Promise<Storage>;
  /** the reader's fast path (off with LP_BACKFILL_EXACT=1) */
  fastPath: boolean;
  show: (s: Shown) => void;
}

/** transform and preview: the same run; preview always writes the report and may sample. */
export function transformRun(o: TransformRunOptions, mode: 'transform' | 'preview', deps: TransformDeps): Promise<TransformStageResult> {
  return withRunLock(o.config.outDir, mode, (lock) => transformLocked(lock, undefined, o, mode, deps), { create: true });
}

/**
 * The transform stage under a lock the caller holds (`run` holds it from start to end), then the
 * reject-rate stop: every output is written, and no sink takes them (the run machine's gates say
 * the same to a later upload, launch or send). `known`: the manifest the caller loaded.
 */
export async function transformLocked(
  lock: RunLock,
  known: { manifest: Manifest | undefined } | undefined,
  o: TransformRunOptions,
  mode: TransformMode,
  deps: TransformDeps,
): Promise<TransformStageResult> {
  let result: TransformStageResult;
  try {
    result = await transformStage(
      lock,
      o.config,
      {
        ...(deps.stdin ? { source: deps.stdin } : {}),
        storage: deps.inputStorage,
        fastPath: deps.fastPath,
        report: o.report,
        onProgress: deps.progress.update,
      },
      deps.now,
      known,
    );
  } finally {
    deps.progress.done();
  }
  deps.show({ stage: 'transformed', dir: lock.dir, mode, result });
  const { summary } = result;
  if (summary.rejectRateExceeded) {
    throw new BackfillError(
      'REJECT_RATE',
      `${summary.counts.rejected} of ${summary.counts.read} rows were rejected (${(summary.rejectRate * 100).toFixed(2)}%), above --max-reject-rate ${summary.config.maxRejectRate}`,
      `${mode === 'run' ? 'Nothing was uploaded. ' : ''}All outputs were written. Look at ${o.config.outDir}/rejects.csv, fix the mapping or the data, or raise --max-reject-rate, then transform again${mode === 'run' ? ' (upload and launch refuse this output)' : ''}.`,
    );
  }
  return result;
}
