import type { Report, Warning } from '../model/report.js';
import type { TransformSummary } from '../model/summary.js';
import { DAY } from '../time/clamp.js';
import { MAX_EVENT_NAMES_PER_APP, MAX_PARAM_NAMES_PER_APP } from '../events/names.js';
import { eventLikeColumns, eventTimeColumn } from '../events/event-export.js';
import type { ReportCollector } from './collector.js';
import { bucketDays } from './histogram.js';
import { isoSeconds as iso } from '../time/iso.js';

export const REPORT_SCHEMA_VERSION = 2;

export type { HistogramBucket, HistogramNewer, HistogramOlder, Report, ReportResults, Warning } from '../model/report.js';

const pct = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10000) / 100);

function histogram(c: ReportCollector, summary: TransformSummary): Report['histogram'] {
  const importAt = Date.parse(summary.config.importAt) / 1000;
  // always show the cutoff and the import time, so the markers have somewhere to stand
  const day = (t: number) => Math.floor(t / DAY) - c.firstEpochDay;
  const { unit, buckets, older, newer } = bucketDays(
    { firstDay: c.firstEpochDay, input: c.inputByDay, output: c.outputByDay },
    day(Date.parse(summary.config.cutoff) / 1000),
    day(importAt),
  );
  return {
    unit,
    buckets,
    older,
    newer,
    markers: {
      cutoff: summary.config.cutoff,
      clampTarget: summary.config.clampTarget,
      analytics7d: iso(importAt - 7 * DAY),
      importAt: summary.config.importAt,
    },
  };
}

/** Summary counts + streamed observations → the report, as written to report.json. */
export function buildReport(summary: TransformSummary, c: ReportCollector, generatedAt: Date): Report {
  c.finish();
  const k = summary.counts;
  const events = [...c.events.entries()]
    .map(([event, s]) => ({
      event,
      occurrences: s.occurrences,
      clamped: s.clamped,
      clampedShare: pct(s.clamped, s.occurrences),
      olderThan7dShare: pct(s.olderThan7d, s.occurrences),
      valueByCurrency: Object.fromEntries([...s.valueByCurrency].map(([cur, sum]) => [cur, sum.toString()])),
    }))
    .sort((a, b) => b.occurrences - a.occurrences || a.event.localeCompare(b.event));
  const olderThan7d = [...c.events.values()].reduce((s, e) => s + e.olderThan7d, 0);
  const distinctUsers = c.users.estimate();
  const cost = summary.cost;
  const split = summary.outputs.usersSplitAcrossParts;
  const warnings: Warning[] = [];
  if (events.length > 0) {
    warnings.push({
      code: 'campaigns_fire',
      message: `${events.length} event name(s) will be imported: ${events
        .slice(0, 20)
        .map((e) => e.event)
        .join(
          ', ',
        )}${events.length > 20 ? ', …' : ''}. Imported events behave like live ones: any campaign triggered by them WILL fire. Pause such campaigns before launching.`,
    });
  }
  if (olderThan7d > 0) {
    warnings.push({
      code: 'analytics_7d',
      // of the occurrences: for events the rows written, for totals (one row per user) their counts
      message: `${pct(olderThan7d, k.occurrences)}% of the events written are older than 7 days before the import: they reach user profiles and audiences but do not show on Leanplum's Analytics page.`,
    });
  }
  if (k.naiveTimeRows > 0) {
    warnings.push({
      code: 'naive_times',
      message: `${k.naiveTimeRows} row(s) had date-times without an offset and were read in ${summary.config.timeZone}. Check that this is the zone the export was written in (--tz).`,
    });
  }
  if (summary.config.leftOutColumns.length > 0) {
    warnings.push({
      code: 'columns_left_out',
      message: `Columns not imported: ${summary.config.leftOutColumns.join(', ')}. ${
        {
          events: 'Carry them with --param <column> if they matter.',
          users: 'Carry them with --attr <column> if they matter.',
          totals: 'A totals row carries no parameters.',
        }[summary.config.kind ?? 'events']
      }`,
    });
  }
  if (c.rowsWithLargeCount > 0) {
    warnings.push({
      code: 'extreme_counts',
      message: `${c.rowsWithLargeCount} row(s) had a count of 1000 or more (largest ${c.maxCount}); each becomes that many rows.`,
    });
  }
  const kinds = Object.keys(k.timeFormats);
  if (kinds.length > 1) {
    warnings.push({
      code: 'mixed_time_formats',
      message: `The time column mixes formats: ${Object.entries(k.timeFormats)
        .map(([f, n]) => `${f} ${n}`)
        .join(', ')}. Check that this is expected.`,
    });
  }
  if (k.valuesNeedingQuotes > 0) {
    warnings.push({
      code: 'quoted_values',
      message: `${k.valuesNeedingQuotes} value(s) hold a comma, quote or line break and are RFC 4180-quoted. Leanplum's docs also show backslash escapes: import a small file first and check those values.`,
    });
  }
  if (events.length + c.otherEvents > MAX_EVENT_NAMES_PER_APP * 0.8) {
    warnings.push({ code: 'event_name_limit', message: `${events.length} distinct event names: Leanplum allows at most ${MAX_EVENT_NAMES_PER_APP} per app.` });
  }
  if (summary.config.params.length > MAX_PARAM_NAMES_PER_APP * 0.8) {
    warnings.push({
      code: 'param_name_limit',
      message: `${summary.config.params.length} parameter names: Leanplum allows at most ${MAX_PARAM_NAMES_PER_APP} per app.`,
    });
  }
  // Leanplum's email targeting reads the attribute `email` exactly: an `Email` column would import
  // the addresses under another name, where no email campaign finds them
  const names = summary.users?.attributes.map((a) => a.name) ?? [];
  const nearEmail = names.filter((n) => n !== 'email' && /^e-?mail(_?address)?$/i.test(n));
  if (nearEmail.length > 0 && !names.includes('email')) {
    warnings.push({
      code: 'email_attribute',
      message: `Attribute ${nearEmail.map((n) => `"${n}"`).join(', ')} is not "email": Leanplum's email targeting reads the attribute email (exactly this name). If it holds the addresses, rename it: --rename-attr ${nearEmail[0]}=email (by its column or JSON name).`,
    });
  }
  // an event export read as users: its event column would become an attribute holding each user's latest event
  for (const e of summary.users === undefined ? [] : eventLikeColumns(summary.users)) {
    const time = eventTimeColumn(summary.users!, summary.config.mapping.time);
    warnings.push({
      code: 'event_export_as_users',
      message: `Attribute "${e.name}" looks like an event export's column, not a user attribute (${e.why}): each user gets the value of their latest record. If the input is an event export, import it with --kind totals (per user and event: count, first/last time, value sum) or --kind events, with --map event=${e.name}${time === undefined ? ' and --map time=<its time column>' : ` --map time=${time}`}. If it is a people export and ${e.name} is no attribute, leave it out with --drop-attr ${e.name}.`,
    });
  }
  const listLike = (summary.users?.attributes ?? [])
    .filter((a) => (a.listLikeText ?? 0) > 0)
    .sort((a, b) => b.listLikeText! - a.listLikeText! || (a.name < b.name ? -1 : 1));
  if (listLike.length > 0) {
    warnings.push({
      code: 'list_like_text',
      message: `${listLike.reduce((s, a) => s + a.listLikeText!, 0)} text value(s) look like lists ([a, b]) in ${listLike
        .slice(0, 10)
        .map((a) => `${a.name} (${a.listLikeText})`)
        .join(
          ', ',
        )}${listLike.length > 10 ? ', …' : ''}: written as they are. Leanplum's CSV import job may read such a cell as a list (not documented); --sink api sends it as text. The two sinks may set different values: import a few users first and look at them in Leanplum, or use one sink for these attributes.`,
    });
  }
  if (split.count > 0) {
    const named = split.sample.map((x) => `${x.user} (${x.firstPart} … ${x.lastPart})`).join(', ');
    warnings.push({
      code: 'users_split_across_parts',
      message: `${split.count} user(s) have more rows than fit in one part (--max-part-bytes), so their rows span parts: ${named}${split.count > split.sample.length ? ', …' : ''}. Each part is looked up separately; every other user lies in exactly one part.`,
    });
  }
  const skipped = summary.inputs.flatMap((i) => (i.skippedEntries ?? []).map((e) => `${i.name}:${e}`));
  if (skipped.length > 0) {
    warnings.push({
      code: 'zip_entries_skipped',
      message: `${skipped.length} zip entr${skipped.length === 1 ? 'y was' : 'ies were'} not read (not .json, .jsonl, .ndjson or .csv, optionally .gz): ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', …' : ''}. Their rows are in no count; rename or extract them if they hold events.`,
    });
  }
  if (k.rejected > 0) {
    warnings.push({ code: 'rejected_rows', message: `${k.rejected} row(s) were refused (see rejects.csv); they will not be imported.` });
  }
  // about past events (events, and totals with their first/last times); user attributes are no history
  if (summary.config.kind !== 'users')
    warnings.push({
      code: 'historical_permission',
      message: 'By default Leanplum apps cannot use the API to send historical data: ask Leanplum to enable it for this app before launching.',
    });

  const rows = (m: Map<string, { file: string; line: number; message: string; values: string[] }[]>, counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([reason, count]) => ({ reason, count, rows: m.get(reason) ?? [] }));

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: generatedAt.toISOString(),
    tool: summary.tool,
    run: {
      inputs: summary.inputs,
      sampled: summary.sampled,
      importAt: summary.config.importAt,
      cutoff: summary.config.cutoff,
      clampTarget: summary.config.clampTarget,
      maxDelay: summary.config.maxDelay,
      clampAge: summary.config.clampAge,
      clampMode: summary.config.clampMode,
      launchBefore: summary.config.staleAfter,
      timeZone: summary.config.timeZone,
      timeFormat: summary.config.timeFormat,
      mapping: summary.config.mapping,
      params: summary.config.params,
      leftOutColumns: summary.config.leftOutColumns,
    },
    totals: {
      read: k.read,
      kept: k.kept,
      rejected: k.rejected,
      dropped: k.dropped,
      occurrences: k.occurrences,
      written: k.written,
      expandedRows: k.expandedRows,
      clamped: k.clamped,
      clampedRows: k.clampedRows,
      nudgedToImportTime: k.nudgedToImportTime,
    },
    conservation: summary.conservation,
    clamped: {
      occurrences: k.clamped,
      rows: k.clampedRows,
      byEvent: Object.fromEntries(events.filter((e) => e.clamped > 0).map((e) => [e.event, e.clamped])),
      sample: c.clampedSample.map((s) => ({
        file: s.file,
        line: s.line,
        userId: s.userId,
        event: s.event,
        originalTime: iso(s.originalTime),
        newTime: iso(s.newTime),
      })),
    },
    rejected: { total: k.rejected, sourceHeader: [...c.header], byReason: rows(c.rejectedExamples, k.rejectedByReason) },
    dropped: { total: k.dropped, byReason: rows(c.droppedExamples, k.droppedByReason) },
    histogram: histogram(c, summary),
    events,
    otherEventsOccurrences: c.otherEvents,
    cost: {
      batchSize: cost.batchSize,
      order: cost.order,
      billableLookupsAsWritten: cost.billableLookups,
      billableLookupsInInputOrder: cost.billableLookupsInInputOrder,
      apiBillableLookups: cost.apiBillableLookups,
      inputOrderCountedBeforeDedupe: cost.inputOrderCountedBeforeDedupe,
      byPart: summary.outputs.clean.map((p) => ({ part: p.file, rows: p.rows, billableLookups: p.billableLookups })),
      distinctUsers: cost.distinctUsers,
      distinctUsersEstimate: distinctUsers,
      lowerBoundIfGroupedByUser: Math.max(cost.distinctUsers ?? distinctUsers, Math.ceil(k.written / cost.batchSize)),
      usersSplitAcrossParts: split.count,
      ...(cost.byKind === undefined
        ? {}
        : {
            byKind: {
              events: cost.byKind.events,
              totals: cost.byKind.totals ?? distinctUsers,
              totalsEstimated: cost.byKind.totals === null,
            },
          }),
    },
    kind: summary.config.kind,
    ...(summary.totals === undefined ? {} : { perUserTotals: summary.totals }),
    ...(summary.users === undefined ? {} : { users: summary.users }),
    warnings,
    canary: { part: summary.canary.part, users: summary.canary.users, rows: summary.canary.rows, note: summary.canary.note },
  };
}
