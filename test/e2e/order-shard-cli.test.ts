// Issue 13 with the built CLI: the cost of the file as written (numbers worked out by hand from
// LEANPLUM-API.md's billing rule), parts that keep a user together, dedupe in the sort, and shards.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, sample, tempDir } from '../helpers/run.js';

const json = async (dir: string, name: string) => JSON.parse(await readFile(join(dir, name), 'utf8'));
const game = ['--import-at', IMPORT_AT, '--map', 'userId=player_id', '--map', 'time=timestamp', '--param', 'level'];

/** Every clean row of a run directory, part after part, as its CSV line. */
async function cleanLines(dir: string): Promise<string[]> {
  const s = await json(dir, 'summary.json');
  const out: string[] = [];
  for (const p of s.outputs.clean as { file: string }[]) out.push(...(await readFile(join(dir, p.file), 'utf8')).split('\n').slice(1, -1));
  return out;
}

describe('cost: billable lookups of the file as written', () => {
  // samples/game-sessions.csv: 200 rows, a time-ordered export in which 20 players (p01…p20) take
  // turns, 10 events each. Leanplum bills the distinct users of each batch of 50 rows.
  // Input order: every batch of 50 rows holds all 20 players → 4 batches × 20 = 80.
  // User order: p01's 10 rows, then p02's…: each batch holds 5 players → 4 × 5 = 20.
  it('samples/game-sessions.csv: 20 lookups grouped by user against 80 in input order, in report.json, report.html and the summary', async () => {
    const out = await tempDir();
    const r = await runCli(['transform', sample('game-sessions.csv'), '--out', out, ...game]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cost       20 billable lookups as written (grouped by user); 80 in input order');
    const report = await json(out, 'report.json');
    expect(report.cost).toMatchObject({
      batchSize: 50,
      order: 'user',
      billableLookupsAsWritten: 20,
      billableLookupsInInputOrder: 80,
      byPart: [{ part: 'clean.csv', rows: 200, billableLookups: 20 }],
      distinctUsers: 20,
      lowerBoundIfGroupedByUser: 20,
      usersSplitAcrossParts: 0,
    });
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/billable lookups, file as written<\/td><td>20</);
    expect(html).toMatch(/the same rows in input order<\/td><td>80</);
    const summary = await json(out, 'summary.json');
    expect(summary.cost).toEqual({
      batchSize: 50,
      order: 'user',
      billableLookups: 20,
      billableLookupsInInputOrder: 80,
      inputOrderCountedBeforeDedupe: false,
      distinctUsers: 20,
      // the API sink: one JSON multi call holds these 200 rows of 20 users
      apiBillableLookups: 20,
      // the same export as --kind totals: one row per player (docs/kinds.md)
      byKind: { events: 20, totals: 20 },
    });

    const inOrder = await tempDir();
    expect((await runCli(['transform', sample('game-sessions.csv'), '--out', inOrder, ...game, '--order', 'input'])).code).toBe(0);
    expect((await json(inOrder, 'report.json')).cost).toMatchObject({
      order: 'input',
      billableLookupsAsWritten: 80,
      billableLookupsInInputOrder: 80,
      distinctUsers: null,
    });
    // the same rows, each user's in time order
    const sorted = await cleanLines(out);
    expect(sorted.slice(0, 3).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['p01,session_start', 'p01,level_start', 'p01,level_complete']);
    expect([...sorted].sort()).toEqual([...(await cleanLines(inOrder))].sort());
  });

  // 4 users × 30 rows taking turns; every row 50 bytes, the header 30: a 2280-byte part holds 45 rows.
  it('per part, with parts that never split a user: 4 parts of 30 rows (1 lookup each) against 45/45/30-row parts in input order (4 + 4 + 4)', async () => {
    const dir = await tempDir();
    const input = join(dir, 'turns.csv');
    let text = 'userId,event,time,note\n';
    for (let i = 0; i < 120; i++) text += `u${1 + (i % 4)},open,${1_780_000_000 + i},${'x'.repeat(30)}\n`;
    await writeFile(input, text);
    const args = ['--import-at', IMPORT_AT, '--param', 'note', '--max-part-bytes', '2280'];
    const user = join(dir, 'user');
    expect((await runCli(['transform', input, '--out', user, ...args])).code).toBe(0);
    const s = await json(user, 'summary.json');
    expect(s.outputs.clean.map((p: { rows: number; bytes: number; billableLookups: number }) => [p.rows, p.bytes, p.billableLookups])).toEqual([
      [30, 1530, 1],
      [30, 1530, 1],
      [30, 1530, 1],
      [30, 1530, 1],
    ]);
    expect(s.cost).toMatchObject({ billableLookups: 4, billableLookupsInInputOrder: 12 });
    expect(s.outputs.rowsMovedToKeepUsersTogether).toBe(45);
    for (const [i, p] of (s.outputs.clean as { file: string }[]).entries()) {
      expect(
        new Set(
          (await readFile(join(user, p.file), 'utf8'))
            .split('\n')
            .slice(1, -1)
            .map((l) => l.split(',')[0]),
        ),
      ).toEqual(new Set([`u${i + 1}`]));
    }
    const plain = join(dir, 'input');
    expect((await runCli(['transform', input, '--out', plain, ...args, '--order', 'input'])).code).toBe(0);
    const p = await json(plain, 'summary.json');
    expect(p.outputs.clean.map((x: { rows: number; billableLookups: number }) => [x.rows, x.billableLookups])).toEqual([
      [45, 4],
      [45, 4],
      [30, 4],
    ]);
    expect(p.cost).toMatchObject({ billableLookups: 12, billableLookupsInInputOrder: 12 });
  });

  it('a user larger than a part is the one exception: split, named in the summary, the printed summary and a report warning', async () => {
    const dir = await tempDir();
    const input = join(dir, 'whale.csv');
    let text = 'userId,event,time,note\n';
    for (let i = 0; i < 120; i++) text += `${i % 6 === 0 ? 'u0' : 'wh'},open,${1_780_000_000 + i},${'x'.repeat(30)}\n`;
    await writeFile(input, text);
    const out = join(dir, 'out');
    const r = await runCli(['transform', input, '--out', out, '--import-at', IMPORT_AT, '--param', 'note', '--max-part-bytes', '2280']);
    expect(r.code).toBe(0);
    // u0: 20 rows; wh: 100 rows = 45 + 45 + 10
    const s = await json(out, 'summary.json');
    expect(s.outputs.clean.map((p: { rows: number }) => p.rows)).toEqual([20, 45, 45, 10]);
    expect(s.outputs.usersSplitAcrossParts).toEqual({ count: 1, sample: [{ user: 'wh', firstPart: 'clean-part-002.csv', lastPart: 'clean-part-004.csv' }] });
    expect(r.stdout).toContain('split      1 user(s) larger than a part (--max-part-bytes) span parts: wh (clean-part-002.csv … clean-part-004.csv)');
    const report = await json(out, 'report.json');
    expect(report.warnings.find((w: { code: string }) => w.code === 'users_split_across_parts').message).toContain(
      'wh (clean-part-002.csv … clean-part-004.csv)',
    );
    expect(report.cost.usersSplitAcrossParts).toBe(1);
  });
});

describe('--dedupe in the sort', () => {
  it('--dedupe-key: the first row of each vendor id by source position stays, whatever its time; the same rows as --order input, counted as duplicate', async () => {
    const dir = await tempDir();
    const input = join(dir, 'events.csv');
    // e2 comes back with another time (a resend), e1 twice more; e5 is another user's
    await writeFile(
      input,
      [
        'event_id,userId,event,time',
        'e1,u1,open,2026-10-01T10:00:00Z',
        'e2,u1,buy,2026-10-01T10:05:00Z',
        'e3,u2,open,2026-10-01T09:00:00Z',
        'e2,u1,buy,2026-10-01T11:00:00Z',
        'e1,u1,open,2026-10-01T10:00:00Z',
        'e4,u1,open,2026-10-01T08:00:00Z',
        'e1,u1,open,2026-10-01T10:00:00Z',
        'e5,u2,open,2026-10-01T09:00:00Z',
        '',
      ].join('\n'),
    );
    const runs = await Promise.all(
      ['user', 'input'].map(async (order) => {
        const out = join(dir, order);
        const r = await runCli([
          'transform',
          input,
          '--out',
          out,
          '--import-at',
          IMPORT_AT,
          '--dedupe',
          '--dedupe-key',
          'event_id',
          '--sort-memory',
          '1KB',
          '--order',
          order,
        ]);
        expect(r.code).toBe(0);
        return {
          out,
          summary: await json(out, 'summary.json'),
          rows: parse(await readFile(join(out, 'clean.csv')), { columns: true }) as Record<string, string>[],
        };
      }),
    );
    const [user, plain] = runs as [(typeof runs)[0], (typeof runs)[0]];
    const t = (iso: string) => String(Date.parse(iso) / 1000);
    expect(user.rows.map((r) => [r['userId'], r['event'], r['time']])).toEqual([
      ['u1', 'open', t('2026-10-01T08:00:00Z')],
      ['u1', 'open', t('2026-10-01T10:00:00Z')],
      ['u1', 'buy', t('2026-10-01T10:05:00Z')],
      ['u2', 'open', t('2026-10-01T09:00:00Z')],
      ['u2', 'open', t('2026-10-01T09:00:00Z')],
    ]);
    expect(user.summary.counts).toMatchObject({ read: 8, kept: 5, dropped: 3, written: 5 });
    expect(user.summary.counts.droppedByReason.duplicate).toBe(3);
    expect(user.summary.counts).toEqual(plain.summary.counts);
    expect([...user.rows].map((r) => JSON.stringify(r)).sort()).toEqual(plain.rows.map((r) => JSON.stringify(r)).sort());
    // clean.lines: where each written row came from (lines 7, 2, 3, 4, 9 of the file)
    const lines = await readFile(join(user.out, 'clean.lines'));
    expect(Array.from({ length: 5 }, (_, i) => lines.readUInt32LE(8 * i + 4))).toEqual([7, 2, 3, 4, 9]);
  });
});

describe('--shard', () => {
  // 60 users, 400 rows, some refused: the same input for every shard
  async function shardInput(dir: string): Promise<string> {
    let x = 2463534242;
    const rnd = (n: number) => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x % n;
    };
    let text = 'userId,event,time,n\n';
    for (let i = 0; i < 400; i++) {
      const user = i % 37 === 0 ? '' : `user-${rnd(60)}`;
      text += `${user},${['open', 'buy', 'share'][rnd(3)]},${1_780_000_000 + rnd(100_000)},${rnd(10) === 0 ? 0 : 1 + rnd(3)}\n`;
    }
    const input = join(dir, 'events.csv');
    await writeFile(input, text);
    return input;
  }
  /** Computed here from the documented rule, not with the tool's code. */
  const shardOf = (user: string, n: number) => Number(createHash('sha256').update(user, 'utf8').digest().readBigUInt64BE(0) % BigInt(n));
  const args = ['--import-at', IMPORT_AT, '--count-column', 'n', '--max-reject-rate', '1'];

  it('4 shards, one process each: their union is the single run, each user in exactly one shard, conservation per shard', async () => {
    const dir = await tempDir();
    const input = await shardInput(dir);
    const whole = join(dir, 'whole');
    expect((await runCli(['transform', input, '--out', whole, ...args])).code).toBe(0);
    const single = await json(whole, 'summary.json');
    const shards = [];
    for (let i = 0; i < 4; i++) {
      const out = join(dir, `shard-${i}`);
      const r = await runCli(['transform', input, '--out', out, ...args, '--shard', `${i}/4`]);
      expect(r.code).toBe(0);
      const s = await json(out, 'summary.json');
      expect(s.config.shard).toBe(`${i}/4`);
      expect(s.conservation.ok).toBe(true);
      const c = s.counts;
      expect(c.read).toBe(c.kept + c.rejected + c.dropped);
      expect(c.read).toBe(single.counts.read);
      // every shard validates every row: the same rejects, the whole input's reject rate
      expect(c.rejected).toBe(single.counts.rejected);
      expect(await readFile(join(out, 'rejects.csv'), 'utf8')).toBe(await readFile(join(whole, 'rejects.csv'), 'utf8'));
      expect(c.droppedByReason.other_shard + c.kept).toBe(single.counts.kept);
      shards.push({ out, s, lines: await cleanLines(out) });
    }
    expect(shards.reduce((n, x) => n + x.s.counts.kept, 0)).toBe(single.counts.kept);
    expect(shards.reduce((n, x) => n + x.s.counts.written, 0)).toBe(single.counts.written);
    expect(shards.reduce((n, x) => n + x.s.counts.droppedByReason.other_shard, 0)).toBe(3 * single.counts.kept);
    const all = await cleanLines(whole);
    // the union, in the single run's order: the shards' files concatenated and sorted by user give it back
    const union = shards.flatMap((x) => x.lines);
    expect([...union].sort()).toEqual([...all].sort());
    const usersIn = shards.map((x) => new Set(x.lines.map((l) => l.split(',')[0]!)));
    for (const user of new Set(all.map((l) => l.split(',')[0]!))) {
      expect(usersIn.map((set, i) => (set.has(user) ? i : -1)).filter((i) => i >= 0)).toEqual([shardOf(user, 4)]);
      // and that user's rows, in order, are the same in its shard as in the single run
      expect(shards[shardOf(user, 4)]!.lines.filter((l) => l.startsWith(`${user},`))).toEqual(all.filter((l) => l.startsWith(`${user},`)));
    }
    expect(usersIn.every((u) => u.size > 5)).toBe(true);
  });

  it('--shard auto on Cloud Run: CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT are shard 2/4, the same output as --shard 2/4', async () => {
    const dir = await tempDir();
    const input = await shardInput(dir);
    const clean = { JOB_COMPLETION_INDEX: '', AWS_BATCH_JOB_ARRAY_INDEX: '', AWS_BATCH_JOB_ARRAY_SIZE: '', LP_BACKFILL_SHARD_COUNT: '' };
    const auto = join(dir, 'auto');
    const r = await runCli(['transform', input, '--out', auto, ...args, '--shard', 'auto'], {
      env: { ...clean, CLOUD_RUN_TASK_INDEX: '2', CLOUD_RUN_TASK_COUNT: '4' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('; shard 2/4');
    expect((await json(auto, 'summary.json')).config.shard).toBe('2/4');
    expect((await json(auto, 'manifest.json')).transform.options.shard).toBe('2/4');
    const explicit = join(dir, 'explicit');
    expect((await runCli(['transform', input, '--out', explicit, ...args, '--shard', '2/4'])).code).toBe(0);
    expect(await readFile(join(auto, 'clean.csv'), 'utf8')).toBe(await readFile(join(explicit, 'clean.csv'), 'utf8'));

    const none = await runCli(['transform', input, '--out', join(dir, 'none'), ...args, '--shard', 'auto'], {
      env: { ...clean, CLOUD_RUN_TASK_INDEX: '', CLOUD_RUN_TASK_COUNT: '' },
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--shard auto found no batch engine in the environment');
    const bad = await runCli(['transform', input, '--out', join(dir, 'bad'), ...args, '--shard', 'auto'], {
      env: { ...clean, CLOUD_RUN_TASK_INDEX: '4', CLOUD_RUN_TASK_COUNT: '4' },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the index must be from 0 to 3');
  });

  it('a run directory made for one shard refuses another (exit 2, OPTIONS_CHANGED) before anything is sent', async () => {
    const dir = await tempDir();
    const input = await shardInput(dir);
    const out = join(dir, 'run');
    expect((await runCli(['transform', input, '--out', out, ...args, '--shard', '0/4'])).code).toBe(0);
    const r = await runCli(
      ['run', input, '--out', out, ...args, '--shard', '1/4', '--to', 'gs://bucket-x/prefix', '--app-id', '1', '--api-url', 'http://127.0.0.1:9/api', '--yes'],
      { env: { LEANPLUM_DEV_KEY: 'k', STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9' } },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OPTIONS_CHANGED');
    expect(r.stderr).toContain('--shard (then "0/4", now "1/4")');
  });
});
