import { esc } from './escape.js';
import type { Report } from './model.js';
import type { TotalsStats } from '../model/summary.js';
import type { UsersStats } from '../model/user-record.js';
import { groupThousands } from '../events/decimal.js';
import { newerNote, olderNote } from './histogram.js';
import { histogramSvg } from './svg.js';

const n = (x: number) => x.toLocaleString('en-US');

const CSS = `
:root{--fg:#1d2330;--muted:#5b6475;--line:#d8dce4;--in:#7a8bb5;--out:#2f9e6b;--warn:#b45309;--bad:#b42318}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}table{border-collapse:collapse;width:100%;margin:6px 0 12px}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
td.long,th.long{overflow-wrap:anywhere}td.num,th.num{white-space:nowrap}.table-wrap{max-width:100%;overflow-x:auto}p,li,h1,h2,h3{overflow-wrap:anywhere}
th{background:#f4f6f9}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
.warnings li{margin:4px 0}.warnings .campaigns_fire,.warnings .historical_permission{color:var(--bad);font-weight:600}
.conservation{font-family:ui-monospace,monospace;background:#f4f6f9;padding:8px;border-radius:4px}.ok{color:var(--out)}.bad{color:var(--bad)}
.histogram{width:100%;height:auto;border:1px solid var(--line)}.histogram .grid{stroke:#eceff4}.histogram .axis{font-size:11px;fill:var(--muted)}
.histogram .bar.input{fill:var(--in)}.histogram .bar.output{fill:var(--out)}.histogram .axis-line{stroke:var(--fg)}
.histogram .marker{stroke-width:2;stroke-dasharray:5 3}.histogram .marker.cutoff{stroke:var(--bad)}.histogram .marker.clamp-target{stroke:var(--warn)}
.histogram .marker.analytics{stroke:#6d28d9}.histogram .marker.import{stroke:var(--fg)}.histogram .marker-label{font-size:11px}.histogram .clip-note{font-size:11px;fill:var(--warn)}
.histogram .bar.clipped{opacity:.6}.histogram .axis.clipped{fill:var(--warn);font-style:italic}.histogram .axis-break{stroke:var(--warn);stroke-dasharray:2 2}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media print{body{padding:0}h2{break-after:avoid}table{break-inside:auto}tr{break-inside:avoid}}
`;

/** A run of this many characters without a space may break anywhere; shorter words (a timestamp) stay whole. */
const LONG_WORD = /\S{25,}/;
const textCell = (tag: 'td' | 'th', c: string) => `<${tag}${LONG_WORD.test(c) ? ' class="long"' : ''}>${esc(c)}</${tag}>`;

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[], numeric: ReadonlySet<number> = new Set(), id?: string): string {
  const head = headers.map((h, i) => (numeric.has(i) ? `<th class="num">${esc(h)}</th>` : textCell('th', h))).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => (numeric.has(i) ? `<td class="num">${esc(typeof c === 'number' ? n(c) : c)}</td>` : textCell('td', String(c)))).join('')}</tr>`,
    )
    .join('');
  const thead = headers.some((h) => h !== '') ? `<thead><tr>${head}</tr></thead>` : '';
  // a table of many columns scrolls inside its own box: the page never gets wider than the window
  return `<div class="table-wrap"><table${id ? ` id="${esc(id)}"` : ''}>${thead}<tbody>${body || `<tr><td colspan="${headers.length}" class="muted">none</td></tr>`}</tbody></table></div>`;
}

function resultsSection(res: NonNullable<Report['results']>): string {
  const past = res.jobs.reduce((s, j) => s + j.pastEventWarnings, 0);
  const alarm =
    past > 0 ? `<p class="bad"><strong>${n(past)} row(s) came back with "Past event detected": Leanplum filed them at the time of import.</strong></p>` : '';
  const messages = res.jobs.flatMap((j) => Object.entries(j.byMessage).map(([m, c]) => [j.part, m, c] as const));
  const replaced = res.jobs.flatMap((j) => (j.replaced ?? []).map((o) => [j.part, o.jobId ?? '(no answer to the launch)', o.outcome, o.error ?? ''] as const));
  return `<section id="results"><h2>Import results</h2>${alarm}
    ${table(
      ['part', 'job', 'state', 'successes', 'failures', 'warnings', 'note'],
      res.jobs.map((j) => [j.part, j.jobId, j.state, j.successes, j.failures, j.warnings, j.error ?? j.note ?? '']),
      new Set([3, 4, 5]),
      'results-table',
    )}
    ${table(['part', 'message', 'rows'], messages, new Set([2]), 'results-messages')}
    ${replaced.length ? `<p>Earlier jobs, replaced by <code>--relaunch</code> (their rows were not imported by them):</p>${table(['part', 'job', 'outcome', 'error'], replaced, new Set(), 'replaced-jobs')}` : ''}
    ${
      res.exposure.length
        ? table(
            ['part', 'public since', 'until', 'seconds exposed'],
            res.exposure.map((e) => [e.part, e.since, e.until ?? 'still public', e.exposedSeconds ?? '']),
            new Set([3]),
            'exposure-table',
          )
        : ''
    }</section>`;
}

function canarySection(c: NonNullable<Report['canary']>): string {
  if (c.part === null) return `<section id="canary"><h2>Canary</h2><p class="muted">No canary: ${esc(c.note ?? '')}</p></section>`;
  const o = c.outcome;
  const verdict =
    o === undefined
      ? '<p class="muted">Not imported yet: the canary is launched (or sent) alone and first; the rest follows only if it passes.</p>'
      : o.verdict === 'passed'
        ? `<p class="ok">Passed at ${esc(o.at)}: ${n(o.failedRows)} failed row(s), ${n(o.pastEventWarnings)} "Past event detected" warning(s) (at most ${n(o.maxFailures)} allowed); the rest was imported after it.</p>`
        : `<p class="bad"><strong>Stopped at ${esc(o.at)}: ${n(o.failedRows)} failed row(s), ${n(o.pastEventWarnings)} "Past event detected" warning(s) (at most ${n(o.maxFailures)} allowed). Nothing else was imported.</strong> See server-rejects.csv.</p>`;
  return `<section id="canary"><h2>Canary</h2>${table(
    ['part', 'users', 'rows'],
    [[c.part, c.users, c.rows]],
    new Set([1, 2]),
    'canary-table',
  )}${c.note ? `<p class="muted">${esc(c.note)}</p>` : ''}${verdict}</section>`;
}

const PROBLEM_WORDS: Readonly<Record<UsersStats['valuesLeftOut'][number]['problem'], string>> = {
  bad_name: 'name Leanplum refuses',
  duplicate_name: 'name already in the record',
  ambiguous_list_item: 'list item without a bracket form',
  nested_list: 'list of lists or objects',
  unsupported_value: 'no attribute value (bytes, or a list for a field)',
};

/** --kind users: the attributes with fill rate, type conflicts and samples; the fields; values left out. */
function usersSection(u: UsersStats): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const conflicts = u.attributes.filter((a) => a.conflict);
  const types = (t: Partial<Record<string, number>>) =>
    Object.entries(t)
      .map(([k, v]) => `${k} ${n(v ?? 0)}`)
      .join(', ');
  return `<section id="users"><h2>Users</h2>
      <p>${n(u.users)} users written, one row each, merged from ${n(u.records)} records (${n(u.usersWithSeveralRecords)} users had more than one: per attribute the latest value wins; an empty value ${u.clearEmpty ? 'clears the attribute (--clear-empty: the API sink sends it as null)' : 'is not sent and clears nothing'}).</p>
      ${
        u.fields.length > 0
          ? table(
              ['field', 'users with a value', 'fill rate'],
              u.fields.map((f) => [f.name, f.filled, pct(f.fillRate)]),
              new Set([1, 2]),
              'users-fields',
            )
          : ''
      }
      ${table(
        ['attribute (userAttributes.…)', 'type', 'users with a value', 'fill rate', ...(u.clearEmpty ? ['cleared'] : []), 'samples'],
        u.attributes.map((a) => [
          a.name,
          a.conflict ? `${a.type} (conflict)` : a.type,
          a.filled,
          pct(a.fillRate),
          ...(u.clearEmpty ? [a.cleared] : []),
          a.samples.join(' · '),
        ]),
        new Set(u.clearEmpty ? [2, 3, 4] : [2, 3]),
        'users-attributes',
      )}
      ${
        conflicts.length === 0
          ? ''
          : `<h3>Type conflicts</h3><p class="muted">Values of several types in one column: the column is text; every cell is sent as written, as a string.</p>${table(
              ['attribute', 'values read, by type', 'column type'],
              conflicts.map((a) => [a.name, types(a.types), a.type]),
              new Set(),
              'users-conflicts',
            )}`
      }
      ${
        u.valuesLeftOut.length === 0
          ? ''
          : `<h3>Values left out</h3><p class="bad">These values are not sent (the rest of each record is).</p>${table(
              ['attribute', 'why', 'values', 'first one', 'fix'],
              u.valuesLeftOut.map((v) => [v.name, `${PROBLEM_WORDS[v.problem]}: ${v.message}`, v.values, v.sample, v.fix ?? '—']),
              new Set([2]),
              'users-left-out',
            )}`
      }</section>`;
}

/** One self-contained page: no script, no external resource, every input value escaped. */
/** --kind totals: occurrences per user, and the first/last times that are clamped times. */
function totalsSection(t: TotalsStats): string {
  const o = t.occurrencesPerUser;
  return `<h3>Totals: one row per user</h3>
      <p class="muted">${n(t.users)} users, ${n(t.eventNames)} event names (${n(t.cells)} user × event groups). A clamped first or last time is imported as the clamp target, not the real date; old dates can also flag a user in Leanplum.</p>${table(
        ['', ''],
        [
          ['occurrences per user: min / mean / max', `${n(o.min)} / ${o.mean.toFixed(1)} / ${n(o.max)}`],
          ...o.buckets.map((b, i): [string, string] => {
            const from = i === 0 ? 1 : o.buckets[i - 1]!.upTo! + 1;
            const range = b.upTo === null ? `more than ${n(from - 1)}` : from === b.upTo ? n(from) : `${n(from)}–${n(b.upTo)}`;
            return [`users with ${range} occurrence(s)`, n(b.users)];
          }),
          ['firstTime cells holding a clamped time', n(t.clampedFirstTimes)],
          ['lastTime cells holding a clamped time', n(t.clampedLastTimes)],
          ['users with a clamped occurrence', n(t.usersWithClampedTimes)],
        ],
        new Set(),
        'totals-table',
      )}`;
}

export function renderReportHtml(r: Report): string {
  const t = r.totals;
  const run = r.run;
  const cons = r.conservation;
  const markers = [
    { at: r.histogram.markers.cutoff, label: '365-day cutoff', cls: 'cutoff' },
    { at: r.histogram.markers.clampTarget, label: 'clamp target', cls: 'clamp-target' },
    { at: r.histogram.markers.analytics7d, label: '7-day analytics line', cls: 'analytics' },
    { at: r.histogram.markers.importAt, label: 'import time', cls: 'import' },
  ];
  const multi = run.inputs.length > 1;
  // exact decimal sums (report.json has them as strings); only the thousands are grouped here
  const currencies = (v: Record<string, string | number>) =>
    Object.entries(v)
      .map(([c, x]) => `${groupThousands(String(x))} ${c}`)
      .join(', ');
  const h = r.histogram;
  const clipped = [h.older ? `the first bar ("older") holds ${olderNote(h.older)}` : '', h.newer ? `the last bar ("newer") holds ${newerNote(h.newer)}` : '']
    .filter((x) => x !== '')
    .map((x) => x.replace(/ in the (first|last) bar/, ''));
  const sections = [
    `<header><h1>Leanplum backfill preview</h1><p class="muted">Generated ${esc(r.generatedAt)} by ${esc(r.tool.name)} ${esc(r.tool.version)} — ${r.results ? 'the import has run: its results come first' : 'nothing has been sent to Leanplum by this preview'}.</p></header>`,
    `<section id="warnings"><h2>Read before launching</h2><ul class="warnings">${r.warnings.map((w) => `<li class="${esc(w.code)}">${esc(w.message)}</li>`).join('')}</ul></section>`,
    `<section id="run"><h2>The run</h2>${table(
      ['', ''],
      [
        ...run.inputs.flatMap((i) => [
          ['input', `${i.name} (${n(i.bytes)} bytes${run.sampled ? `; a preview of the first ${n(run.sampled)} rows only` : ''})`],
          [run.sampled ? 'sha256 (of the bytes read)' : 'sha256', i.sha256],
        ]),
        // the time rule and its deadline: not for users (no clamp; a users run never goes stale)
        ...(r.kind === 'users'
          ? []
          : [
              ['import time T', run.importAt],
              ['365-day cutoff (T + max delay − 365d)', run.cutoff],
              ['clamp target (T − clamp age)', run.clampTarget],
              ['max delay / clamp age / mode', `${run.maxDelay} / ${run.clampAge} / ${run.clampMode}`],
              ['launch before', `${run.launchBefore} — after this the clamp is stale: transform again`],
            ]),
        ['time zone for naive times', run.timeZone],
        ['time format', run.timeFormat],
        [
          'mapping',
          Object.entries(run.mapping)
            .map(([k, v]) => `${k} ← ${v}`)
            .join(', '),
        ],
        ['params', run.params.join(', ') || 'none'],
        ['columns left out', run.leftOutColumns.join(', ') || 'none'],
      ],
      new Set(),
      'run-table',
    )}</section>`,
    `<section id="totals"><h2>Totals</h2>${table(['read', 'kept', 'rejected', 'dropped', 'rows written', 'expanded rows', 'clamped', 'nudged to T'], [[t.read, t.kept, t.rejected, t.dropped, t.written, t.expandedRows, t.clamped, t.nudgedToImportTime]], new Set([0, 1, 2, 3, 4, 5, 6, 7]), 'totals-table')}
      <p class="conservation ${cons.ok ? 'ok' : 'bad'}" id="conservation">${esc(cons.rows)}<br>${esc(cons.occurrences)}</p></section>`,
    `<section id="histogram-section"><h2>Event times per ${esc(r.histogram.unit)}</h2>${histogramSvg(h, markers)}
      <p class="muted">Bars left of the red cutoff would be filed by Leanplum at the moment of import; the clamp moves them to the clamp target.${
        clipped.length ? ` Events far from the rest are not given a bar of their own, so they do not squash the others: ${esc(clipped.join('; '))}.` : ''
      }</p></section>`,
    `<section id="events"><h2>Per event</h2>${table(
      ['event', 'occurrences', 'clamped %', 'older than 7 days %', 'value by currency'],
      r.events.map((e) => [e.event, e.occurrences, e.clampedShare, e.olderThan7dShare, currencies(e.valueByCurrency)]),
      new Set([1, 2, 3]),
      'events-table',
    )}</section>`,
    `<section id="clamped"><h2>Clamped rows: ${n(r.clamped.occurrences)} occurrences in ${n(r.clamped.rows)} rows</h2>
      ${table(['event', 'clamped occurrences'], Object.entries(r.clamped.byEvent), new Set([1]), 'clamped-by-event')}
      <p class="muted">A sample of up to 50 clamped rows:</p>
      ${
        multi
          ? table(
              ['file', 'line', 'userId', 'event', 'original time', 'new time'],
              r.clamped.sample.map((s) => [s.file, s.line, s.userId, s.event, s.originalTime, s.newTime]),
              new Set([1]),
              'clamped-sample',
            )
          : table(
              ['line', 'userId', 'event', 'original time', 'new time'],
              r.clamped.sample.map((s) => [s.line, s.userId, s.event, s.originalTime, s.newTime]),
              new Set([0]),
              'clamped-sample',
            )
      }</section>`,
    `<section id="rejected"><h2>Rejected rows: ${n(r.rejected.total)}</h2>${table(
      ['reason', 'rows'],
      r.rejected.byReason.map((x) => [x.reason, x.count]),
      new Set([1]),
      'rejected-by-reason',
    )}
      ${r.rejected.byReason
        .map(
          (x) =>
            `<h3>${esc(x.reason)}</h3>${
              multi
                ? table(
                    ['file', 'line', 'message', ...r.rejected.sourceHeader],
                    x.rows.map((row) => [row.file, row.line, row.message, ...row.values]),
                    new Set([1]),
                  )
                : table(
                    ['line', 'message', ...r.rejected.sourceHeader],
                    x.rows.map((row) => [row.line, row.message, ...row.values]),
                    new Set([0]),
                  )
            }`,
        )
        .join('')}</section>`,
    `<section id="dropped"><h2>Dropped rows: ${n(r.dropped.total)}</h2>${table(
      ['reason', 'rows', 'first lines'],
      r.dropped.byReason.map((x) => [x.reason, x.count, x.rows.map((row) => (multi ? `${row.file}:${row.line}` : row.line)).join(', ')]),
      new Set([1]),
      'dropped-table',
    )}</section>`,
    `<section id="cost"><h2>Cost: billable user lookups</h2>
      <p class="muted">Leanplum processes the file in batches of ${esc(String(r.cost.batchSize))} rows and bills each unique user looked up in a batch; each part is its own job, so a batch never spans parts. Counted exactly on the file as written.</p>${table(
        ['', ''],
        [
          ['order of this file', r.cost.order === 'user' ? 'grouped by user (userId, then time)' : 'input order'],
          ['billable lookups, file as written', n(r.cost.billableLookupsAsWritten)],
          r.kind === 'users' || r.kind === 'totals' || r.cost.billableLookupsInInputOrder === null
            ? ['the same rows in input order', 'one row per user, whatever the input order']
            : [`the same rows in input order${r.cost.inputOrderCountedBeforeDedupe ? ' (counted before dedupe)' : ''}`, n(r.cost.billableLookupsInInputOrder)],
          ['no order costs less than (max of distinct users, rows ÷ 50)', n(r.cost.lowerBoundIfGroupedByUser)],
          ['through the API instead (send / --sink api: calls of ≤ 50 users, 500 rows)', n(r.cost.apiBillableLookups)],
          r.cost.distinctUsers === null ? ['distinct users (≈)', n(r.cost.distinctUsersEstimate)] : ['distinct users', n(r.cost.distinctUsers)],
          ['users split across parts (larger than a part)', n(r.cost.usersSplitAcrossParts)],
          ...(r.cost.byKind === undefined
            ? []
            : [
                ['as --kind events (one row per occurrence)', r.cost.byKind.events === null ? '—' : n(r.cost.byKind.events)],
                [
                  `as --kind totals (one row per user: counts, first/last times, value sums; no parameters)${r.cost.byKind.totalsEstimated ? ' (≈)' : ''}`,
                  r.cost.byKind.totals === null ? '—' : n(r.cost.byKind.totals),
                ],
              ]),
        ],
        new Set(),
        'cost-table',
      )}${r.perUserTotals === undefined ? '' : totalsSection(r.perUserTotals)}
      ${
        r.cost.byPart.length > 1
          ? table(
              ['part', 'rows', 'billable lookups'],
              r.cost.byPart.map((p) => [p.part, p.rows, p.billableLookups]),
              new Set([1, 2]),
              'cost-by-part',
            )
          : ''
      }</section>`,
  ];
  if (r.users !== undefined) {
    // --kind users: no event times, events or clamps; the users section follows the totals
    const eventOnly = ['<section id="histogram-section">', '<section id="events">', '<section id="clamped">'];
    const kept = sections.filter((x) => !eventOnly.some((id) => x.startsWith(id)));
    kept.splice(kept.findIndex((x) => x.startsWith('<section id="totals">')) + 1, 0, usersSection(r.users));
    sections.splice(0, sections.length, ...kept);
  }
  if (r.results) sections.splice(1, 0, resultsSection(r.results));
  // a canary comes right after the results (its verdict is what to read first); no canary: at the end
  if (r.canary?.part) sections.splice(r.results ? 2 : 1, 0, canarySection(r.canary));
  else if (r.canary) sections.push(canarySection(r.canary));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Backfill preview — ${esc(run.inputs.map((i) => i.name).join(', '))}</title><style>${CSS}</style></head><body>${sections.join('\n')}</body></html>\n`;
}
