import type { UsersStats } from '../model/user-record.js';
import type { Shown } from '../pipeline/transform-run.js';
import type { Log } from '../run/log.js';
import type { TransformSummary } from '../transform/transform.js';
import { describeRepeat, type Repeat } from './flags.js';
import { shownList } from '../input/shown.js';
import { isStale } from '../time/clamp.js';
import { type EventLikeColumn, eventLikeColumns, eventTimeColumn } from '../events/event-export.js';
import { shellWord } from '../run/advice.js';

const n = (x: number) => x.toLocaleString('en-US');

/** The short text summary printed to stdout after a transform. */
export function renderTransformSummary(s: TransformSummary, outDir: string, now: Date): string {
  const c = s.counts;
  const perUser = s.config.kind === 'users' || s.config.kind === 'totals';
  const reasons = (rec: Record<string, number>) =>
    Object.entries(rec)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ') || 'none';
  const lines = [
    ...s.inputs.map((i) => `input      ${i.name} (${n(i.bytes)} bytes, sha256 ${i.sha256.slice(0, 12)}…)`),
    // the time rule and its deadline: events and totals (first/last times are clamped); a users run
    // clamps nothing and never goes stale (run-machine.ts clampIsStale)
    ...(s.config.kind === 'users'
      ? []
      : [
          `import at  ${s.config.importAt}   cutoff ${s.config.cutoff}   clamp target ${s.config.clampTarget}`,
          `           launch before ${s.config.staleAfter} (import time + max delay), or transform again`,
        ]),
    `rows       read ${n(c.read)}, kept ${n(c.kept)}, rejected ${n(c.rejected)}, dropped ${n(c.dropped)}`,
    `rejected   ${reasons(c.rejectedByReason)}`,
    `dropped    ${reasons(c.droppedByReason)}`,
    s.users !== undefined
      ? `written    ${n(c.written)} rows, one per user (--kind users), merged from ${n(s.users.records)} records (latest value wins); ${n(s.users.attributes.length)} attribute(s)${usersNotes(s.users)}`
      : s.totals === undefined
        ? `written    ${n(c.written)} rows (${n(c.expandedRows)} rows expanded), ${n(c.clamped)} clamped, ${n(c.nudgedToImportTime)} nudged to import time`
        : `written    ${n(c.written)} rows, one per user (--kind totals): ${n(c.occurrences)} occurrences of ${n(s.totals.eventNames)} event name(s); ${n(s.totals.clampedFirstTimes)} firstTime and ${n(s.totals.clampedLastTimes)} lastTime cells hold a clamped time`,
    `check      ${s.conservation.rows}; ${s.conservation.occurrences}`,
    `cost       ${n(s.cost.billableLookups)} billable lookups as written (${s.cost.order === 'user' ? 'grouped by user' : 'input order'}); ${perUser || s.cost.billableLookupsInInputOrder === null ? 'one row per user, whatever the input order' : `${n(s.cost.billableLookupsInInputOrder)} in input order${s.cost.inputOrderCountedBeforeDedupe ? ' (before dedupe)' : ''}`}; ${n(s.cost.apiBillableLookups)} through the API (--sink api)${s.config.shard === null ? '' : `; shard ${s.config.shard}`}`,
    ...(s.cost.byKind === undefined
      ? []
      : [
          `kinds      as --kind events: ${s.cost.byKind.events === null ? 'not counted' : `${n(s.cost.byKind.events)} billable lookups`}; as --kind totals: ${s.cost.byKind.totals === null ? 'not counted with --order input' : `${n(s.cost.byKind.totals)} billable lookups`} (one row per user: counts, first/last times and value sums, no parameters)`,
        ]),
    `outputs    ${s.outputs.clean.map((p) => `${outDir}/${p.file}`).join(', ')}, ${outDir}/rejects.csv, ${outDir}/summary.json`,
  ];
  const k = s.canary;
  if (k.part !== null)
    lines.push(
      `canary     ${outDir}/${k.part}: ${n(k.users)} users (smallest hashes of the user id), ${n(k.rows)} rows, imported alone and first; the rest only if it passes${k.note ? ` (${k.note})` : ''}`,
    );
  else if (k.requested !== null) lines.push(`canary     none: ${k.note}`);
  const split = s.outputs.usersSplitAcrossParts;
  if (split.count > 0) {
    lines.push(
      `split      ${n(split.count)} user(s) larger than a part (--max-part-bytes) span parts: ${split.sample.map((x) => `${x.user} (${x.firstPart} … ${x.lastPart})`).join(', ')}${split.count > split.sample.length ? ', …' : ''}`,
    );
  }
  for (const e of s.users === undefined ? [] : eventLikeColumns(s.users)) lines.push(`WARNING    ${eventExportAdvice(s, e, outDir)}`);
  if (s.config.leftOutColumns.length > 0) {
    // how to carry a column left out depends on the kind: totals rows have no place for it
    const carry = { events: 'carry them with --param', users: 'carry them with --attr', totals: 'a totals row carries no parameters' }[
      s.config.kind ?? 'events'
    ];
    lines.push(`left out   ${shownList(s.config.leftOutColumns)} (${carry})`);
  }
  // entries a zip holds but this tool does not read: their rows are in no count, so say so loudly
  for (const i of s.inputs) {
    if (i.skippedEntries?.length)
      lines.push(`skipped    ${i.name}: ${i.skippedEntries.join(', ')} (not .json, .jsonl, .ndjson or .csv, optionally .gz: NOT read)`);
  }
  const j = s.json;
  if (j !== undefined) {
    lines.push(
      `json       ${j.preset !== null ? `preset ${j.preset}, ` : ''}header from the first ${n(j.scannedRecords)} record(s)${j.anonymous !== null ? `; ${n(j.anonymousUserRows)} row(s) took their user id from --anonymous ${j.anonymous}` : ''}`,
    );
    const shown = j.paramsLeftOut
      .slice(0, 5)
      .map((p) => `${p.name} (${n(p.rows)} row(s), ${p.why === 'bad_name' ? 'a name Leanplum refuses' : 'first seen after the header was fixed'})`);
    const more = j.paramsLeftOut.length - shown.length + j.paramsLeftOutOtherNames;
    if (shown.length > 0)
      lines.push(
        `params     not carried: ${shown.join(', ')}${more > 0 ? `, and ${n(more)} more` : ''}; see summary.json json.paramsLeftOut for the fix of each`,
      );
    if (j.paramsOverLimit.rows > 0)
      lines.push(
        `params     ${n(j.paramsOverLimit.rows)} row(s) had more than 50 parameters: ${n(j.paramsOverLimit.values)} value(s) left out (the first 50 in header order stay)`,
      );
    if (j.paramsDuplicateValues > 0) lines.push(`params     ${n(j.paramsDuplicateValues)} value(s) not written: the row already had that parameter name`);
  }
  if (s.rejectRateExceeded)
    lines.push(`REJECT RATE ${(s.rejectRate * 100).toFixed(2)}% is above --max-reject-rate ${(s.config.maxRejectRate * 100).toFixed(2)}%`);
  // A past --import-at is fine for a preview, but the user should learn now, not at launch, that
  // this output can no longer be imported safely.
  if (s.config.kind !== 'users' && isStale(s.config.staleAfter, now)) {
    lines.push(
      `STALE      the launch deadline ${s.config.staleAfter} has passed: launch/run will refuse this output; transform again without --import-at to import it`,
    );
  }
  return lines.join('\n');
}

/**
 * What the orchestrator shows as each stage ends (pipeline/transform-run.ts `Shown`): the
 * transform's summary and the jobs' results on stdout, the API sink's counts on the log.
 */
export function renderShown(x: Shown, o: { repeats: readonly Repeat[] }, out: (text: string) => void, log: Log, now: Date = new Date()): void {
  switch (x.stage) {
    case 'transformed': {
      const { summary, reportPath, report } = x.result;
      out(renderTransformSummary(summary, x.dir, now) + '\n');
      for (const r of o.repeats) out(`options    ${describeRepeat(r)}: ${JSON.stringify(r.used)}\n`);
      if (reportPath !== undefined) out(`report     ${reportPath}\n`);
      if (report !== undefined && x.mode === 'preview') for (const w of report.warnings) out(`warning    ${w.message}\n`);
      if (summary.sampled !== null)
        out(`sampled    only the first ${summary.sampled} row(s) were read: this output is a preview and can never be uploaded or launched\n`);
      return;
    }
    case 'jobs':
      for (const r of x.results) {
        out(
          `job        ${r.part} ${r.jobId}: ${r.state}, ${r.successes} succeeded, ${r.failures} failed, ${r.warnings} warnings${r.error ? ` — ${r.error}` : ''}\n`,
        );
        for (const [msg, count] of Object.entries(r.byMessage)) out(`           ${count} × ${msg}\n`);
        for (const old of r.replaced ?? [])
          out(
            old.jobId === null
              ? '           replaced an earlier launch whose answer was lost (no job id)\n'
              : `           replaced an earlier job ${old.jobId}: ${old.outcome}${old.error ? ` — ${old.error}` : ''}\n`,
          );
      }
      return;
    case 'results':
      out(`results    ${x.dir}/results/summary.json, ${x.dir}/server-rejects.csv, report ${x.dir}/report.html\n`);
      return;
    case 'sent': {
      const s = x.summary;
      const figures = `${n(s.sent)} row(s) in ${n(s.batches)} call(s): ${n(s.ok)} ok, ${n(s.warned)} with a warning, ${n(s.failed)} failed`;
      if (s.alreadyComplete === true)
        log('sent', { ...s }, `sent       nothing: this run's send was already complete (earlier: ${figures}); nothing was sent now`);
      else log('sent', { ...s }, `sent       ${figures}; ${n(s.billableLookups)} billable lookups; ${n(s.requests)} request(s), ${n(s.retries)} retried`);
      if (s.unknownSkipped.batches > 0)
        log(
          'unknown-skipped',
          s.unknownSkipped,
          `WARNING    ${n(s.unknownSkipped.rows)} row(s) in ${s.unknownSkipped.batches} batch(es) were recorded as unknown (--skip-unknown): Leanplum may or may not hold them`,
        );
      if (s.pastEventWarnings > 0)
        log(
          'past-event',
          { rows: s.pastEventWarnings },
          `WARNING    ${n(s.pastEventWarnings)} row(s) "Past event detected": Leanplum filed them at the send time`,
        );
      log('results', { dir: x.dir }, `results    ${x.dir}/results/summary.json, ${x.dir}/server-rejects.csv`);
      return;
    }
  }
}

/** --kind users: type conflicts and values left out, for the printed summary (the report lists them). */
function usersNotes(u: UsersStats): string {
  const conflicts = u.attributes.filter((a) => a.conflict).map((a) => a.name);
  const left = u.valuesLeftOut.reduce((k, v) => k + v.values, 0);
  const fixes = u.valuesLeftOut.flatMap((v) => (v.fix === null ? [] : [v.fix]));
  const carry = fixes.length === 0 ? '' : `; to carry the names Leanplum refuses, add ${fixes.slice(0, 5).join(' ')}${fixes.length > 5 ? ' …' : ''}`;
  const listLike = u.attributes.reduce((k, a) => k + (a.listLikeText ?? 0), 0);
  return `${listLike > 0 ? `; ${listLike} text value(s) look like lists (the CSV job may read a list, --sink api sends text: see the report)` : ''}${conflicts.length > 0 ? `; type conflict in ${conflicts.slice(0, 5).join(', ')}${conflicts.length > 5 ? ', …' : ''} (written as text)` : ''}${left > 0 ? `; ${left} value(s) left out (${[...new Set(u.valuesLeftOut.map((v) => v.problem))].join(', ')}: see the report)${carry}` : ''}${u.clearEmpty ? '; --clear-empty: clears in clearUserAttributes (API sink only)' : ''}`;
}

/**
 * --kind users on what looks like an event export: the attribute, why, and the fix — the totals run
 * of the same CSV input as a command that runs as printed (when the inputs are files and a time
 * column is plain), or --drop-attr when it is a people export after all.
 */
function eventExportAdvice(s: TransformSummary, e: EventLikeColumn, outDir: string): string {
  const time = eventTimeColumn(s.users!, s.config.mapping.time);
  const head = `attribute ${e.name} looks like an event export's column (${e.why}): each user gets the value of their latest record.`;
  const tail = `If it is a people export and ${e.name} is no attribute, add --drop-attr ${shellWord(e.name)}.`;
  const runnable = time !== undefined && s.inputs.every((i) => i.format === 'csv' && i.name !== '-');
  if (!runnable)
    return `${head} For an event export use --kind totals or --kind events with --map event=${shellWord(e.name)} --map time=${time === undefined ? '<its time column>' : shellWord(time)}. ${tail}`;
  const c = s.config;
  const flags = [
    ...s.inputs.map((i) => shellWord(i.name)),
    `--out ${shellWord(`${outDir.replace(/\/+$/, '')}-totals`)}`,
    '--kind totals',
    ...(c.mapping.userId === undefined ? [] : [`--map userId=${shellWord(c.mapping.userId)}`]),
    `--map event=${shellWord(e.name)}`,
    `--map time=${shellWord(time)}`,
    ...(c.timeZone === 'UTC' ? [] : [`--tz ${shellWord(c.timeZone)}`]),
    ...(c.timeFormat === 'auto' ? [] : [`--time-format ${shellWord(c.timeFormat)}`]),
    ...(c.encoding === 'utf-8' ? [] : [`--encoding ${shellWord(c.encoding)}`]),
  ];
  return `${head} For an event export, count it per user: lp-backfill transform ${flags.join(' ')} (or import every event with --kind events). ${tail}`;
}
