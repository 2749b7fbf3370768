// --kind users through the built CLI (issue 19), each with its exact clean CSV written by hand from
// docs/kinds.md "users": the header order, the merge (latest wins, empties never clear), the cell
// forms, the counts.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runShell } from '../helpers/cli.js';
import { sample, tempDir } from '../helpers/run.js';

async function transform(input: string, ...args: string[]) {
  const out = await tempDir();
  const r = await runCli(['transform', input, '--out', out, '--kind', 'users', '--max-reject-rate', '1', ...args]);
  const text = (name: string) => readFile(join(out, name), 'utf8');
  return {
    r,
    out,
    clean: await text('clean.csv').catch(() => ''),
    rejects: await text('rejects.csv').catch(() => ''),
    summary: JSON.parse(await text('summary.json').catch(() => '{}')),
    report: JSON.parse(await text('report.json').catch(() => '{}')),
  };
}

const csv = (...rows: string[]) => rows.join('\n') + '\n';
const USERS_CSV = ['--map', 'userId=user_id', '--map', 'created=signup_at', '--map', 'time=updated_at'];

describe('--kind users (exact clean CSV)', () => {
  it('a generic CSV: fields by name and --map, every other column an attribute, two rows of u-001 merged (latest wins, empty never clears)', async () => {
    const { r, clean, summary } = await transform(sample('users.csv'), ...USERS_CSV, '--rename-attr', 'address.city=address_city');
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,created,locale,country,userAttributes.address_city,userAttributes.email,userAttributes.name,userAttributes.plan,userAttributes.score',
        'u-001,1709283600,nb_NO,NO,Oslo,ana@example.com,Ana Lima,team,43',
        'u-002,1715956200,de_DE,DE,Berlin,ben@example.com,Ben Okafor,free,7',
        'u-003,1718000000,en_SG,SG,,wei@example.com,"Chen, Wei",free,',
      ),
    );
    expect(summary.config.kind).toBe('users');
    expect(summary.counts).toMatchObject({ read: 4, kept: 4, rejected: 0, dropped: 0, written: 3 });
    expect(summary.conservation.ok).toBe(true);
    expect(summary.columns).toEqual([
      { name: 'userId', type: 'string' },
      { name: 'created', type: 'epoch' },
      { name: 'locale', type: 'string' },
      { name: 'country', type: 'string' },
      ...['address_city', 'email', 'name', 'plan'].map((n) => ({ name: `userAttributes.${n}`, type: 'string' })),
      // every cell of score reads as a number (CSV cells are text; the cells are written unchanged)
      { name: 'userAttributes.score', type: 'number' },
    ]);
    expect(summary.users).toMatchObject({ users: 3, records: 4, usersWithSeveralRecords: 1, clearEmpty: false, valuesLeftOut: [] });
    expect(summary.users.attributes.find((a: { name: string }) => a.name === 'score')).toEqual({
      name: 'score',
      type: 'number',
      filled: 2,
      fillRate: 0.6667,
      cleared: 0,
      types: { number: 3 },
      conflict: false,
      samples: ['43', '7'],
      listLikeText: 0,
      usersWithSeveralValues: 1,
    });
  });

  it('a name with a dot is refused before any output, and the printed fix runs as printed', async () => {
    const first = await transform(sample('users.csv'), ...USERS_CSV);
    expect(first.r.code).toBe(2);
    expect(first.r.stderr).toMatch(/attribute "address\.city" \(column "address\.city"\) contains "\."/);
    const fix = /Add to the command: (.*?) \(a "\."/.exec(first.r.stderr)?.[1];
    expect(fix).toBe('--rename-attr address.city=address_city');
    const again = await transform(sample('users.csv'), ...USERS_CSV, ...fix!.split(' '));
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(again.clean.split('\n')[0]).toContain('userAttributes.address_city');
  });

  it('--attr names the only attributes; --drop-attr leaves one out', async () => {
    const only = await transform(sample('users.csv'), ...USERS_CSV, '--attr', 'plan=tier', '--attr', 'email');
    expect(only.r.code, only.r.stderr).toBe(0);
    expect(only.clean).toBe(
      csv(
        'userId,created,locale,country,userAttributes.email,userAttributes.tier',
        'u-001,1709283600,nb_NO,NO,ana@example.com,team',
        'u-002,1715956200,de_DE,DE,ben@example.com,free',
        'u-003,1718000000,en_SG,SG,wei@example.com,free',
      ),
    );
    expect(only.summary.config.leftOutColumns).toEqual(['name', 'score', 'address.city']);
    const dropped = await transform(sample('users.csv'), ...USERS_CSV, '--drop-attr', 'address.city', '--drop-attr', 'name', '--drop-attr', 'score');
    expect(dropped.clean.split('\n')[0]).toBe('userId,created,locale,country,userAttributes.email,userAttributes.plan');
  });

  it('an NDJSON people file: paths, types kept, objects flattened with _, lists in brackets, long numbers exact, rejects and drops counted', async () => {
    const dir = await tempDir();
    const input = join(dir, 'people.ndjson');
    await writeFile(
      input,
      [
        '{"id":"u-9","updated_at":"2025-01-01T00:00:00Z","signed_up":"2024-01-01 10:00","profile":{"email":"a@x.io","address":{"city":"Oslo"}},"tags":["gold","beta"],"visits":12,"vip":true,"locale":"nb_NO","big":12345678901234567890}',
        '{"id":"u-9","updated_at":"2024-06-01T00:00:00Z","profile":{"email":"old@x.io"},"tags":[],"visits":3,"nickname":"nine"}',
        '{"id":"u-1","updated_at":"2025-02-01T00:00:00Z","tags":["a, b"],"visits":"many","vip":null}',
        '{"id":"u-2","profile":{"email":""}}',
        'not json',
        '{"updated_at":"2025-01-01T00:00:00Z","visits":1}',
        '',
      ].join('\n'),
    );
    const { r, out, clean, rejects, summary, report } = await transform(
      input,
      '--map',
      'userId=id',
      '--map',
      'time=updated_at',
      '--map',
      'created=signed_up',
      '--tz',
      'Europe/Oslo',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(
      csv(
        'userId,created,locale,userAttributes.big,userAttributes.nickname,userAttributes.profile_address_city,userAttributes.profile_email,userAttributes.tags,userAttributes.vip,userAttributes.visits',
        'u-1,,,,,,,,,many',
        'u-9,1704099600,nb_NO,12345678901234567890,nine,Oslo,a@x.io,"[gold, beta]",true,12',
      ),
    );
    expect(rejects.split('\n').slice(1, 3)).toEqual([expect.stringMatching(/^5,bad_json,/), expect.stringMatching(/^6,missing_user_id,userId is empty,/)]);
    expect(summary.counts).toMatchObject({ read: 6, kept: 3, rejected: 2, dropped: 1, written: 2 });
    expect(summary.counts.droppedByReason.nothing_to_set).toBe(1);
    expect(summary.conservation.ok).toBe(true);
    const types = Object.fromEntries(summary.columns.map((c: { name: string; type: string }) => [c.name, c.type]));
    expect(types).toMatchObject({
      created: 'epoch',
      'userAttributes.big': 'string',
      'userAttributes.tags': 'string[]',
      'userAttributes.vip': 'boolean',
      'userAttributes.visits': 'string',
    });
    const visits = summary.users.attributes.find((a: { name: string }) => a.name === 'visits');
    expect(visits).toMatchObject({ type: 'string', conflict: true, types: { number: 2, string: 1 }, filled: 2 });
    expect(summary.users.valuesLeftOut).toEqual([
      expect.objectContaining({ name: 'tags', problem: 'ambiguous_list_item', values: 1, sample: '["a, b"]', fix: null }),
    ]);
    expect(r.stdout + r.stderr).toMatch(
      /written +2 rows, one per user \(--kind users\), merged from 3 records \(latest value wins\); 7 attribute\(s\); type conflict in visits \(written as text\); 1 value\(s\) left out \(ambiguous_list_item: see the report\)/,
    );
    // the report: attributes with fill rate, the conflict, the value left out; no event sections
    expect(report.users).toEqual(summary.users);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<td>visits<\/td><td>string \(conflict\)<\/td><td class="num">2<\/td><td class="num">100\.0%<\/td>/);
    expect(html).toMatch(/id="users-conflicts".*<td>visits<\/td><td>number 2, string 1<\/td>/s);
    expect(html).toMatch(/id="users-left-out".*<td>tags<\/td><td>list item without a bracket form/s);
    expect(html).not.toContain('id="histogram-section"');
  });

  it('JSON: a path no record read ahead has stops before output with the closest path, and the fix runs as printed', async () => {
    const dir = await tempDir();
    const input = join(dir, 'people.ndjson');
    await writeFile(input, '{"user_id":"a","profile":{"email":"a@x.io"}}\n{"user_id":"b","plan":"pro"}\n');
    const first = await transform(input, '--attr', 'profile.emial=email');
    expect(first.r.code).toBe(2);
    expect(first.r.stderr).toMatch(
      /userId: no record of the first 2 has "userId"\. Fields seen: user_id, profile, profile\.email, plan\. Did you mean --map userId=user_id\?/,
    );
    expect(first.r.stderr).toMatch(/attr: no record of the first 2 has "profile\.emial"\. .* Did you mean --attr profile\.email=email\?/);
    const fixes = [...first.r.stderr.matchAll(/Did you mean (--\S+) (\S+)\?/g)].flatMap((m) => [m[1]!, m[2]!]);
    const fixed = await transform(input, ...fixes);
    expect(fixed.r.code, fixed.r.stderr).toBe(0);
    expect(fixed.clean).toBe(csv('userId,userAttributes.email', 'a,a@x.io'));
    expect(fixed.summary.counts.droppedByReason.nothing_to_set).toBe(1);
  });

  it('Parquet, a JSON array and TSV go through the same readers', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const dir = await tempDir();
    const pq = join(dir, 'people.parquet');
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['p1', 'p2'], type: 'STRING' },
        { name: 'credits', data: [9007199254740993n, 5n], type: 'INT64' },
        { name: 'vip', data: [true, false], type: 'BOOLEAN' },
        { name: 'created', data: ['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'], type: 'STRING' },
      ],
    });
    await writeFile(pq, Buffer.from(buf));
    const p = await transform(pq, '--map', 'userId=id');
    expect(p.r.code, p.r.stderr).toBe(0);
    // a 64-bit integer past 2^53 keeps its digits as text: the column holds a number and a string, so it is text
    expect(p.clean).toBe(csv('userId,created,userAttributes.credits,userAttributes.vip', 'p1,1704067200,9007199254740993,true', 'p2,1704153600,5,false'));
    expect(p.summary.users.attributes[0]).toMatchObject({ name: 'credits', type: 'string', conflict: true, types: { string: 1, number: 1 } });

    const arr = join(dir, 'people.json');
    await writeFile(arr, '[{"userId":"j1","tags":[1,2],"city":"Oslo"},{"userId":"j2","tags":[3]}]');
    const j = await transform(arr);
    expect(j.r.code, j.r.stderr).toBe(0);
    expect(j.clean).toBe(csv('userId,city,userAttributes.tags', 'j1,Oslo,"[1, 2]"', 'j2,,[3]'));
    expect(j.summary.columns.at(-1)).toEqual({ name: 'userAttributes.tags', type: 'number[]' });

    const tsv = join(dir, 'people.tsv');
    await writeFile(tsv, 'user_id\tplan\tnote\nt1\tpro\ta, b\n');
    const t = await transform(tsv, '--map', 'userId=user_id');
    expect(t.r.code, t.r.stderr).toBe(0);
    expect(t.clean).toBe(csv('userId,userAttributes.note,userAttributes.plan', 't1,"a, b",pro'));
  });

  it('JSON: a key that breaks the name rules is left out, counted, with a --rename-attr that runs as printed through a shell', async () => {
    const dir = await tempDir();
    const input = join(dir, 'people.ndjson');
    await writeFile(input, '{"userId":"a","$feature.beta":true,"plan":"pro"}\n');
    const first = await transform(input);
    expect(first.r.code, first.r.stderr).toBe(0);
    expect(first.clean).toBe(csv('userId,userAttributes.plan', 'a,pro'));
    expect(first.r.stdout + first.r.stderr).toContain(
      "1 value(s) left out (bad_name: see the report); to carry the names Leanplum refuses, add --rename-attr '$feature.beta=$feature_beta'",
    );
    const [left] = first.summary.users.valuesLeftOut;
    expect(left).toMatchObject({ name: '$feature.beta', problem: 'bad_name', values: 1, fix: "--rename-attr '$feature.beta=$feature_beta'" });
    const out = join(dir, 'o2');
    const shell = await runShell(`lp-backfill transform "${input}" --out "${out}" --kind users --no-report ${left.fix}`);
    expect(shell.code, shell.stderr).toBe(0);
    expect(await readFile(join(out, 'clean.csv'), 'utf8')).toBe(csv('userId,userAttributes.$feature_beta,userAttributes.plan', 'a,true,pro'));
  });

  // review of issue 19: a name starting with "-" (Leanplum refuses it) got the fix `--rename-attr -x=x`,
  // which the option parser reads as the flags -x: "Unknown argument: x", exit 2.
  it('a CSV column and a JSON key starting with "-": the printed --rename-attr runs as printed through a shell', async () => {
    const dir = await tempDir();
    const bash = (args: string) => runShell(`lp-backfill transform ${args}`);
    const input = join(dir, 'dash.csv');
    await writeFile(input, 'userId,-x,plan\nu1,b,pro\n');
    const first = await transform(input);
    expect(first.r.code).toBe(2);
    const fix = /Add to the command: (.*?) \(/.exec(first.r.stderr)?.[1];
    expect(fix).toBeDefined();
    const out = join(dir, 'o1');
    const again = await bash(`"${input}" --out "${out}" --kind users --no-report ${fix}`);
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(join(out, 'clean.csv'), 'utf8')).toBe(csv('userId,userAttributes.plan,userAttributes.x', 'u1,pro,b'));
    const json = join(dir, 'dash.ndjson');
    await writeFile(json, '{"userId":"a","-y":1,"plan":"pro"}\n');
    const j = await transform(json);
    expect(j.r.code, j.r.stderr).toBe(0);
    const [left] = j.summary.users.valuesLeftOut;
    expect(left.fix).toBeTruthy();
    const out2 = join(dir, 'o2');
    const shell = await bash(`"${json}" --out "${out2}" --kind users --no-report ${left.fix}`);
    expect(shell.code, shell.stderr).toBe(0);
    expect(await readFile(join(out2, 'clean.csv'), 'utf8')).toBe(csv('userId,userAttributes.plan,userAttributes.y', 'a,pro,1'));
  });

  // review of issue 19: the summary and the report said "0 in input order" for a users run (never counted)
  it('the cost line and the report do not show an input-order figure that was never counted for one row per user', async () => {
    const { r, out } = await transform(sample('users.csv'), ...USERS_CSV, '--rename-attr', 'address.city=address_city');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('cost       3 billable lookups as written (grouped by user); one row per user, whatever the input order;');
    expect(r.stdout).not.toContain('0 in input order');
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/the same rows in input order<\/td><td>one row per user, whatever the input order</);
  });

  // review of issue 19: summary.json said billableLookupsInInputOrder 0 for --kind users (never counted),
  // and for totals the input-order figure of the event rows, which no totals file has
  it('summary.json and report.json cost.billableLookupsInInputOrder is null for users and totals (not counted), a number for events', async () => {
    const users = await transform(sample('users.csv'), ...USERS_CSV, '--rename-attr', 'address.city=address_city');
    expect(users.summary.cost.billableLookupsInInputOrder).toBeNull();
    expect(users.report.cost.billableLookupsInInputOrder).toBeNull();
    for (const kind of ['totals', 'events']) {
      const out = await tempDir();
      const r = await runCli([
        'transform',
        sample('ecommerce-clickstream.csv'),
        '--out',
        out,
        '--kind',
        kind,
        '--map',
        'userId=visitor_id',
        '--map',
        'event=event_name',
        '--map',
        'time=ts_ms',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
      const rep = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
      if (kind === 'totals') {
        expect(s.cost.billableLookupsInInputOrder).toBeNull();
        expect(rep.cost.billableLookupsInInputOrder).toBeNull();
        expect(r.stdout).toContain('one row per user, whatever the input order');
      } else {
        expect(s.cost.billableLookupsInInputOrder).toBe(22);
        expect(r.stdout).toContain('22 in input order');
      }
    }
  });

  // review of issue 19: created "2024-05-17 14:30:00" (no offset) was read in UTC without a word,
  // where the events kind warns of date-times without an offset
  it('date-times without an offset are counted and the report warns (naive_times), as for events', async () => {
    const { r, summary, report } = await transform(sample('users.csv'), ...USERS_CSV, '--rename-attr', 'address.city=address_city');
    expect(r.code, r.stderr).toBe(0);
    // u-002's signup_at 2024-05-17 14:30:00 is the only time without an offset
    expect(summary.counts.naiveTimeRows).toBe(1);
    expect(report.warnings.map((w: { code: string }) => w.code)).toContain('naive_times');
    expect(report.warnings.find((w: { code: string }) => w.code === 'naive_times').message).toContain(
      '1 row(s) had date-times without an offset and were read in UTC',
    );
  });

  // review of issue 19: Leanplum's email targeting reads the attribute `email`; an `Email` column went in
  // as the attribute Email without a word
  it('an Email column: the report warns that email targeting reads "email", and the rename it names runs', async () => {
    const dir = await tempDir();
    const input = join(dir, 'crm.csv');
    await writeFile(input, csv('userId,Email,plan', 'u1,a@x.com,pro'));
    const first = await transform(input);
    expect(first.r.code, first.r.stderr).toBe(0);
    const w = first.report.warnings.find((x: { code: string }) => x.code === 'email_attribute')?.message as string | undefined;
    expect(w).toContain('Attribute "Email" is not "email"');
    const flag = /(--rename-attr \S+=email)/.exec(w ?? '')?.[1];
    const again = await transform(input, ...flag!.split(' '));
    expect(again.r.code, again.r.stderr).toBe(0);
    expect(again.clean).toBe(csv('userId,userAttributes.email,userAttributes.plan', 'u1,a@x.com,pro'));
    expect(again.report.warnings.map((x: { code: string }) => x.code)).not.toContain('email_attribute');
  });

  it('--clear-empty writes the clears into clearUserAttributes; without --kind users the flag is refused', async () => {
    const { r, out, clean, summary } = await transform(sample('users.csv'), ...USERS_CSV, '--rename-attr', 'address.city=address_city', '--clear-empty');
    expect(r.code, r.stderr).toBe(0);
    expect(clean.split('\n').slice(0, 2)).toEqual([
      'userId,created,locale,country,userAttributes.address_city,userAttributes.email,userAttributes.name,userAttributes.plan,userAttributes.score,clearUserAttributes',
      // u-001's later row has empty name, email and address.city: cleared (its plan and score are newer values)
      'u-001,1709283600,nb_NO,NO,,,,team,43,"[address_city, email, name]"',
    ]);
    expect(summary.users.clearEmpty).toBe(true);
    // the CSV job cannot clear: upload of such a run is refused before anything leaves the machine
    const upload = await runCli(['upload', out, '--to', 'gs://bucket-x/pre']);
    expect(upload.code).toBe(2);
    expect(upload.stderr).toMatch(/transformed with --kind users --clear-empty: .* only be sent by the API sink/);
    const run = await runCli([
      'run',
      sample('users.csv'),
      '--out',
      join(await tempDir(), 'r'),
      '--kind',
      'users',
      ...USERS_CSV,
      '--clear-empty',
      '--to',
      'gs://bucket-x/pre',
      '--app-id',
      'a',
      '--yes',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/clear-empty: .*only the API sink can.*\n.*Add --sink api/);
    const refused = await runCli(['transform', sample('users.csv'), '--out', await tempDir(), '--clear-empty', '--attr', 'x']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--attr, --clear-empty: only with --kind users/);
  });
});

// review of issue 19: an EVENT export read with --kind users turned event_name and the timestamps into
// user attributes without a word (each user got the name of their latest event as an attribute).
describe('--kind users on an event export', () => {
  it('warns in the printed summary and the report, naming --kind totals (a command that runs as printed) and --drop-attr', async () => {
    const first = await transform(sample('ecommerce-clickstream.csv'), '--map', 'userId=visitor_id');
    expect(first.r.code, first.r.stderr).toBe(0);
    const line = first.r.stdout.split('\n').find((l) => l.startsWith('WARNING    attribute event_name'));
    expect(line, first.r.stdout).toContain("looks like an event export's column (13 of 13 users with several records have several values of it)");
    expect(line).toContain('add --drop-attr event_name.');
    const w = first.report.warnings.find((x: { code: string }) => x.code === 'event_export_as_users')?.message as string | undefined;
    expect(w).toContain('--kind totals');
    expect(w).toContain('--map event=event_name --map time=ts_ms');
    expect(first.summary.users.attributes.find((a: { name: string }) => a.name === 'event_name').usersWithSeveralValues).toBe(13);
    const command = /count it per user: (lp-backfill transform .*?) \(or import/.exec(line!)?.[1];
    expect(command).toBeDefined();
    const shell = await runShell(command!);
    expect(shell.code, shell.stderr).toBe(0);
    const totals = JSON.parse(await readFile(join(`${first.out}-totals`, 'summary.json'), 'utf8'));
    expect(totals.config.kind).toBe('totals');
    expect(totals.counts.occurrences).toBe(60);
    // the fix for a people export: the column left out, no warning
    const dropped = await transform(sample('ecommerce-clickstream.csv'), '--map', 'userId=visitor_id', '--drop-attr', 'event_name');
    expect(dropped.r.stdout).not.toContain('WARNING');
    expect(dropped.report.warnings.map((x: { code: string }) => x.code)).not.toContain('event_export_as_users');
    // a people export with several records per user: no warning
    const people = await transform(sample('users.csv'), ...USERS_CSV, '--rename-attr', 'address.city=address_city');
    expect(people.report.warnings.map((x: { code: string }) => x.code)).not.toContain('event_export_as_users');
  });
});

// review of issue 19: a users run printed the events-only lines — import time / cutoff / clamp target,
// "launch before … or transform again" (a users run never goes stale) and the note that Leanplum must
// allow historical data (about events) — while totals (first/last times clamped) need them
describe('per kind, only the lines that apply', () => {
  it('users: no clamp line, no launch deadline, no historical-data note; totals keep them', async () => {
    const users = await transform(sample('users.csv'), ...USERS_CSV, '--rename-attr', 'address.city=address_city');
    expect(users.r.code, users.r.stderr).toBe(0);
    expect(users.r.stdout).not.toMatch(/cutoff|clamp target|launch before/);
    expect(users.report.warnings.map((x: { code: string }) => x.code)).not.toContain('historical_permission');
    const html = await readFile(join(users.out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/launch before|clamp target|365-day cutoff/);
    const out = await tempDir();
    const r = await runCli([
      'transform',
      sample('ecommerce-clickstream.csv'),
      '--out',
      out,
      '--kind',
      'totals',
      '--map',
      'userId=visitor_id',
      '--map',
      'event=event_name',
      '--map',
      'time=ts_ms',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^import at .* cutoff .* clamp target /m);
    expect(r.stdout).toMatch(/launch before .* or transform again/);
    const rep = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(rep.warnings.map((x: { code: string }) => x.code)).toContain('historical_permission');
    expect(await readFile(join(out, 'report.html'), 'utf8')).toMatch(/launch before/);
  });
});

// review of issue 19: a CSV cell "[a, b]" in a string column is sent as the text "[a, b]" by the API
// sink, while Leanplum's CSV importer may read it as a list (undocumented): the two sinks could set
// different values, without a word
describe('list-like text', () => {
  it('a string cell that looks like a list is counted per attribute and warned (list_like_text), the value unchanged', async () => {
    const dir = await tempDir();
    const input = join(dir, 'people.csv');
    await writeFile(input, 'userId,tags,plan\nu1,"[a, b]",pro\nu2,plain,[free]\nu3,[x],team\n');
    const { r, clean, summary, report } = await transform(input);
    expect(r.code, r.stderr).toBe(0);
    expect(clean).toBe(csv('userId,userAttributes.plan,userAttributes.tags', 'u1,pro,"[a, b]"', 'u2,[free],plain', 'u3,team,[x]'));
    const by = (name: string) => summary.users.attributes.find((a: { name: string }) => a.name === name);
    expect(by('tags')).toMatchObject({ type: 'string', listLikeText: 2 });
    expect(by('plan')).toMatchObject({ type: 'string', listLikeText: 1 });
    const w = report.warnings.find((x: { code: string }) => x.code === 'list_like_text')?.message as string | undefined;
    expect(w).toContain('tags (2), plan (1)');
    expect(w).toContain('--sink api');
    expect(r.stdout).toContain('3 text value(s) look like lists');
  });
});

// the JSON read-ahead is one function for users and events (transform-input.ts readAhead): both stop at --scan-records
describe('JSON read-ahead, users and events', () => {
  it('users: a path only a record after --scan-records has is refused; events: a key first seen after it is named, not carried', async () => {
    const dir = await tempDir();
    const people = join(dir, 'people.ndjson');
    // the read-ahead takes whole chunks of the file: the late record lies far behind the first ones
    const pad = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('');
    await writeFile(people, `${pad(20_000, (i) => `{"userId":"u${i}","plan":"pro"}\n`)}{"userId":"b","profile":{"email":"b@x.io"}}\n`);
    const late = await transform(people, '--scan-records', '10', '--attr', 'profile.email=email');
    expect(late.r.code).toBe(2);
    expect(late.r.stderr).toMatch(/attr: no record of the first \d+ has "profile\.email"/);
    const seen = await transform(people, '--scan-records', '30000', '--attr', 'profile.email=email');
    expect(seen.r.code, seen.r.stderr).toBe(0);
    const events = join(dir, 'events.ndjson');
    await writeFile(
      events,
      `${pad(20_000, (i) => `{"userId":"u${i}","event":"x","time":"2026-11-01T00:00:00Z","p":{"k":1}}\n`)}{"userId":"a","event":"x","time":"2026-11-01T00:00:01Z","p":{"k":2,"later":3}}\n`,
    );
    const out = await tempDir();
    const r = await runCli(['transform', events, '--out', out, '--scan-records', '10', '--params-from', 'p', '--import-at', '2026-11-20T00:00:00Z']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    expect(s.json.scannedRecords).toBeLessThan(20_000);
    expect(s.json.paramsLeftOut).toMatchObject([{ name: 'later', rows: 1, why: 'not_in_header' }]);
  });
});
