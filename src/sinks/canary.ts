import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { BackfillError } from '../errors.js';
import { readJson, writeFileDurable, writeJsonAtomic } from '../files/json-file.js';
import type { Manifest } from '../model/manifest.js';
import type { TransformSummary } from '../model/summary.js';
import type { CanaryOutcome } from '../model/report.js';
import { renderReportHtml } from '../report/html.js';
import type { Report } from '../report/model.js';
import type { CanaryCounts } from '../run/canary-gate.js';
import type { RunLock } from '../run/lock.js';
import type { Log } from '../run/log.js';
import { saveManifest } from '../run/manifest.js';

// The canary's verdict, for both sinks (issue 20): recorded in the manifest and the report, and
// the stop (exit 5) with the failures joined to their source lines and the two ways on.

export interface CanaryJudged extends CanaryCounts {
  part: string;
  verdict: 'passed' | 'stopped';
  maxFailures: number;
  /** API sink: rows of canary calls whose answer was lost and that were left (--skip-unknown); they count against the allowance */
  unknownRows?: number;
}

const lost = (j: CanaryJudged) => (j.unknownRows ? `, ${j.unknownRows} row(s) whose answer was lost (--skip-unknown)` : '');

/** The verdict into manifest.json (canary) and report.json/html (canary.outcome); logged. */
export async function recordCanary(lock: RunLock, m: Manifest, j: CanaryJudged, now: () => Date, log: Log): Promise<void> {
  const at = now().toISOString();
  const same =
    m.canary !== undefined &&
    m.canary.verdict === j.verdict &&
    m.canary.maxFailures === j.maxFailures &&
    m.canary.failedRows === j.failedRows &&
    m.canary.pastEventWarnings === j.pastEventWarnings &&
    m.canary.unknownRows === j.unknownRows;
  if (!same) {
    m.canary = {
      ...m.canary,
      part: j.part,
      verdict: j.verdict,
      failedRows: j.failedRows,
      pastEventWarnings: j.pastEventWarnings,
      maxFailures: j.maxFailures,
      at,
    };
    if (j.unknownRows !== undefined) m.canary.unknownRows = j.unknownRows;
    else delete m.canary.unknownRows;
    await saveManifest(lock, m, now());
  }
  const report = await readJson<Report>(join(lock.dir, 'report.json'));
  if (report?.canary !== undefined) {
    const outcome: CanaryOutcome = {
      verdict: j.verdict,
      failedRows: j.failedRows,
      pastEventWarnings: j.pastEventWarnings,
      maxFailures: j.maxFailures,
      at: m.canary!.at ?? at,
    };
    report.canary.outcome = outcome;
    await writeJsonAtomic(join(lock.dir, 'report.json'), report);
    await writeFileDurable(join(lock.dir, 'report.html'), renderReportHtml(report));
  }
  log(
    'canary',
    { part: j.part, verdict: j.verdict, failedRows: j.failedRows, pastEventWarnings: j.pastEventWarnings, maxFailures: j.maxFailures },
    j.verdict === 'passed'
      ? `canary     ${j.part} passed: ${j.failedRows} failed row(s), ${j.pastEventWarnings} "Past event detected"${lost(j)} (at most ${j.maxFailures} allowed); importing the rest`
      : `canary     ${j.part} STOPPED the run: ${j.failedRows} failed row(s), ${j.pastEventWarnings} "Past event detected"${lost(j)} (at most ${j.maxFailures} allowed)`,
  );
}

/** The canary's users and rows, as the transform wrote them (summary.json). */
export async function canaryFacts(dir: string): Promise<{ users: number; rows: number }> {
  const s = await readJson<TransformSummary>(join(dir, 'summary.json'));
  return { users: s?.canary?.users ?? 0, rows: s?.canary?.rows ?? 0 };
}

/** One row of server-rejects.csv: a failed or warned row joined to its source line. */
export interface ServerReject {
  part: string;
  row: string;
  sourceFile: string;
  sourceLine: string;
  kind: string;
  message: string;
}

/** The first `limit` rows of server-rejects.csv of `part` (none when the file is missing). */
export async function readServerRejects(dir: string, part: string, limit: number): Promise<{ rows: ServerReject[]; total: number }> {
  const rows: ServerReject[] = [];
  let total = 0;
  try {
    await pipeline(
      createReadStream(join(dir, 'server-rejects.csv')),
      parse({ relax_column_count: true, from_line: 2 }),
      async (records: AsyncIterable<string[]>) => {
        for await (const r of records) {
          if (r[0] !== part) continue;
          total++;
          if (rows.length < limit) rows.push({ part: r[0]!, row: r[1]!, sourceFile: r[2]!, sourceLine: r[3]!, kind: r[4]!, message: r[5]! });
        }
      },
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { rows, total };
}

/** A failed or warned row of the canary, joined to its source line. */
export interface CanaryFailure {
  /** the row in the part (1-based), or the batch for the API sink */
  where: string;
  sourceFile: string;
  sourceLine: string;
  message: string;
}

/**
 * The run stops: nothing but the canary was imported. `goOn`: the command(s), each in backquotes,
 * that go on with this run with the allowance the canary needed (they must run as printed).
 */
export function canaryStopped(
  dir: string,
  j: CanaryJudged & { users: number; rows: number },
  failures: { shown: readonly CanaryFailure[]; total: number },
  goOn: string,
  sink: 'csv-job' | 'api',
  /** --state-to: where the run's state lives (a batch engine's task goes on from there, not from `dir`) */
  stateUrl?: string,
): BackfillError {
  const need = j.failedRows + j.pastEventWarnings + (j.unknownRows ?? 0);
  const task =
    stateUrl === undefined
      ? ''
      : ` The run's state lives in ${stateUrl}: where ${dir} is gone (a batch engine's task), add --canary-max-failures ${need} to the task's own run command (the one with --state-to) instead.`;
  const lines = failures.shown.map((f) => `\n  ${f.where} ← ${f.sourceFile || '?'} line ${f.sourceLine || '?'}: ${f.message}`);
  const more = failures.total > failures.shown.length ? `\n  … ${failures.total - failures.shown.length} more in ${dir}/server-rejects.csv` : '';
  const what = sink === 'api' ? 'sent' : 'launched';
  return new BackfillError(
    'JOB_ROW_FAILURES',
    `the canary stopped the run: ${j.part} (${j.users} users, ${j.rows} rows) came back with ${j.failedRows} failed row(s) and ${j.pastEventWarnings} "Past event detected" warning(s)${lost(j)}; at most ${j.maxFailures} allowed (--canary-max-failures). Nothing else was ${what}.${lines.join('')}${more}`,
    `Fix the mapping or the input (${failures.shown.length > 0 ? `each row above, with its source line, is in ${dir}/server-rejects.csv` : `the canary job's results could not be read here, so its rows are not shown`}), then transform and run again into a new --out. The canary's other rows are in Leanplum already: a new run imports them again (see docs/canary.md). ` +
      `Or, if these rows may fail, go on with this run: ${goOn}.${task}`,
  );
}
