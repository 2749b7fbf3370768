import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, runCli } from '../helpers/cli.js';
import { sample, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

let s: Awaited<ReturnType<typeof startServers>>;
let open: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 30 });
  open = await startServers({ stepMs: 30, grant: false });
});
afterAll(async () => {
  await s.stop();
  await open.stop();
});

const env = (srv = s) => ({ STORAGE_EMULATOR_HOST: srv.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
// each test its own --to prefix: the import ledger there refuses a second run of the same inputs (issue 20)
let toPrefix = 'backfills-0';
let tests = 0;
beforeEach(() => {
  toPrefix = `backfills-${++tests}`;
});
const cloudArgs = (srv = s) => [
  '--to',
  `gs://${BUCKET}/${toPrefix}`,
  '--app-id',
  APP.id,
  '--api-url',
  srv.sim.apiUrl,
  '--poll-interval',
  '1s',
  '--timeout',
  '30s',
];
const hourAgo = () => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString().replace('.000Z', 'Z');

async function allText(dir: string): Promise<string> {
  let text = '';
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) text += await readFile(join(e.parentPath, e.name), 'latin1');
  }
  return text;
}

describe('lp-backfill run against the stand-ins', () => {
  it('transforms, uploads, launches once, follows the job and adds the results to the report', async () => {
    const out = join(await tempDir(), 'run');
    const r = await runCli(['run', sample('mobile-game.csv'), '--out', out, '--count-column', 'count', '--yes', '--log-format', 'json', ...cloudArgs()], {
      env: env(),
    });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(m.parts).toHaveLength(1);
    const part = m.parts[0];
    expect(part).toMatchObject({ launch: { status: 'launched' }, job: { state: 'FINISHED', successes: 84, failures: 0 } });
    expect(part.object).toMatch(new RegExp(`^${toPrefix}/${m.runId}-[0-9a-f]{16}/clean\\.csv$`));
    const stored = await s.gcs.read(BUCKET, part.object);
    expect(stored!.data.equals(await readFile(join(out, 'clean.csv')))).toBe(true);
    expect([...s.sim.jobs.values()].filter((j) => j.file === part.object)).toHaveLength(1);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.results.jobs[0]).toMatchObject({ state: 'FINISHED', successes: 84, failures: 0 });
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('id="results"');
    // NDJSON logs for CI
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    expect(events).toEqual(expect.arrayContaining(['upload', 'uploaded', 'launched', 'job']));
    // the key is nowhere: not in the run directory, not in the output
    expect(await allText(out)).not.toContain(APP.devKey);
    expect(r.stdout + r.stderr).not.toContain(APP.devKey);

    // run again: nothing is repeated
    const again = await runCli(['run', sample('mobile-game.csv'), '--out', out, '--count-column', 'count', '--yes', ...cloudArgs()], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('transform already done');
    expect([...s.sim.jobs.values()].filter((j) => j.file === part.object)).toHaveLength(1);
  });

  it('splits into parts at row boundaries: one job per part, every part with the header', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    const t = Math.floor(Date.now() / 1000) - 86400;
    const rows = ['user,event,time,params.note'];
    for (let i = 0; i < 400; i++) rows.push(`u${i},open,${t},${i === 250 ? '"x,y"' : 'note'}`);
    await writeFile(input, rows.join('\n') + '\n');
    const out = join(dir, 'run');
    const r = await runCli(['run', input, '--out', out, '--map', 'userId=user', '--max-part-bytes', '4096', '--yes', ...cloudArgs()], { env: env() });
    expect(r.code).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(m.parts.length).toBeGreaterThan(2);
    expect(m.parts.every((p: { job: { state: string } }) => p.job.state === 'FINISHED')).toBe(true);
    expect(m.parts.reduce((sum: number, p: { job: { successes: number } }) => sum + p.job.successes, 0)).toBe(400);
    for (const p of m.parts) expect((await readFile(join(out, p.file), 'utf8')).startsWith('userId,event,time,params.note\n')).toBe(true);
  });

  it('above --max-reject-rate it writes everything, uploads nothing (exit 3), and a rerun refuses too', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    const t = Math.floor(Date.now() / 1000) - 86400;
    await writeFile(input, `user,event,time\nu1,open,${t}\n,open,${t}\nu3,open,later\n`);
    const out = join(dir, 'run');
    const args = ['run', input, '--out', out, '--map', 'userId=user', '--yes', ...cloudArgs()];
    const uploadsBefore = s.gcs.log.filter((l) => l.path.startsWith('/upload')).length;
    const r = await runCli(args, { env: env() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('REJECT_RATE');
    expect(r.stderr).toContain('Nothing was uploaded');
    expect(r.stdout).toContain('read 3 = kept 1 + rejected 2 + dropped 0');
    expect((await readFile(join(out, 'rejects.csv'), 'utf8')).trim().split('\n')).toHaveLength(3);
    const again = await runCli(args, { env: env() });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('transform already done');
    expect(s.gcs.log.filter((l) => l.path.startsWith('/upload')).length).toBe(uploadsBefore);
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).parts[0].upload).toBeUndefined();
  });

  it('a clamp with too little margin shows up as "Past event detected": exit 5, every row traced to its input line', async () => {
    const dir = await tempDir();
    const input = join(dir, 'old.csv');
    await writeFile(input, 'userId,event,time\nu1,open,2020-01-01T00:00:00Z\nu2,open,2026-01-01T00:00:00Z\nu3,open,2019-06-01T00:00:00Z\n');
    const out = join(dir, 'run');
    // Leanplum processes the file 8 days after the import time assumed by the transform
    await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 8 * 86400 }) });
    try {
      const r = await runCli(['run', input, '--out', out, '--yes', ...cloudArgs()], { env: env() });
      expect(r.code).toBe(5);
      expect(r.stderr).toContain('Past event detected');
      const rejects = parse(await readFile(join(out, 'server-rejects.csv')), { columns: true }) as Record<string, string>[];
      expect(rejects.map((x) => [x['sourceFile'], x['sourceLine'], x['kind'], x['userId']])).toEqual([
        [input, '2', 'warning', 'u1'],
        [input, '4', 'warning', 'u3'],
      ]);
      expect(rejects[0]!['message']).toMatch(/^Past event detected \(368 days ago\)/);
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
      expect(report.results.jobs[0].pastEventWarnings).toBe(2);
    } finally {
      await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 0 }) });
    }
  });

  it('without read access the job FAILS (exit 5, explained); --public-while-importing opens it only while the job runs', async () => {
    const dir = await tempDir();
    const failed = await runCli(['run', sample('mobile-game.csv'), '--out', join(dir, 'a'), '--count-column', 'count', '--yes', ...cloudArgs(open)], {
      env: env(open),
    });
    expect(failed.code).toBe(5);
    expect(failed.stderr).toContain('FAILED');
    expect(failed.stderr).toMatch(/bucket must grant Leanplum's account read access, or use --public-while-importing/);

    // a new run directory for the same export: the import ledger names the FAILED run, --reimport goes on
    const out = join(dir, 'b');
    const ok = await runCli(
      [
        'run',
        sample('mobile-game.csv'),
        '--out',
        out,
        '--count-column',
        'count',
        '--yes',
        '--public-while-importing',
        '--delete-after',
        '--reimport',
        ...cloudArgs(open),
      ],
      { env: env(open) },
    );
    expect(ok.code).toBe(0);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const p = m.parts[0];
    expect(p.public.until).toBeDefined();
    expect(Date.parse(p.public.since)).toBeLessThanOrEqual(Date.parse(p.launch.launchedAt));
    expect(p.public.exposedSeconds).toBeGreaterThanOrEqual(0);
    expect(p.deletedAt).toBeDefined();
    expect(await open.gcs.read(BUCKET, p.object)).toBeUndefined();
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.results.exposure[0].exposedSeconds).toBe(p.public.exposedSeconds);
  });

  it('refuses to launch off a terminal without --yes, and when the clamp is stale (exit 2)', async () => {
    const dir = await tempDir();
    const noYes = await runCli(['run', sample('mobile-game.csv'), '--out', join(dir, 'a'), '--count-column', 'count', ...cloudArgs()], { env: env() });
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('--yes');
    const stale = join(dir, 'stale');
    expect(
      (
        await runCli(
          ['transform', sample('mobile-game.csv'), '--out', stale, '--count-column', 'count', '--import-at', '2026-01-01T00:00:00Z', '--max-reject-rate', '1'],
          { env: env() },
        )
      ).code,
    ).toBe(0);
    // nothing is uploaded: a stale output could never be launched
    const uploadsBefore = s.gcs.log.filter((l) => l.path.startsWith('/upload')).length;
    const up = await runCli(['upload', stale, '--to', `gs://${BUCKET}/stale`], { env: env() });
    expect(up.code).toBe(2);
    expect(up.stderr).toContain('CLAMP_STALE');
    expect(s.gcs.log.filter((l) => l.path.startsWith('/upload')).length).toBe(uploadsBefore);
    const r = await runCli(['launch', stale, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CLAMP_STALE');
    expect(r.stderr).toContain('Transform again');
    // run meets the same gate before uploading anything
    const run = await runCli(
      [
        'run',
        sample('mobile-game.csv'),
        '--out',
        join(dir, 'stale-run'),
        '--count-column',
        'count',
        '--import-at',
        '2026-01-01T00:00:00Z',
        '--max-reject-rate',
        '1',
        '--yes',
        ...cloudArgs(),
      ],
      { env: env() },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('CLAMP_STALE');
    expect(s.gcs.log.filter((l) => l.path.startsWith('/upload')).length).toBe(uploadsBefore);
  });

  it.each([
    ['n', 2],
    ['y', 0],
  ] as const)('on a terminal it shows the summary and asks before launching (answer %s → exit %i)', async (answer, code) => {
    const out = join(await tempDir(), 'tty');
    const cmd = [process.execPath, CLI, 'run', sample('mobile-game.csv'), '--out', out, '--count-column', 'count', ...cloudArgs()]
      .map((x) => `'${x}'`)
      .join(' ');
    // `script` gives the CLI a real pseudo-terminal, as a person at a shell has
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...env() } });
    let screen = '';
    let answered = false;
    child.stdout.on('data', (d) => {
      screen += d;
      if (!answered && screen.includes('Launch now? [y/N]')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    const exit = await new Promise((r) => child.on('close', r));
    expect(screen).toMatch(/About to launch 1 Leanplum import job\(s\) for 84 rows/);
    expect(exit).toBe(code);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    const jobs = [...s.sim.jobs.values()].filter((j) => j.file === m.parts[0].object);
    expect(jobs).toHaveLength(answer === 'y' ? 1 : 0);
    if (answer === 'n') expect(screen).toContain('launch cancelled');
  });

  it('a job stuck in PENDING: wait gives up at --timeout (exit 4), a later wait follows it to the end', async () => {
    const out = join(await tempDir(), 'stuck');
    expect((await runCli(['transform', sample('mobile-game.csv'), '--out', out, '--count-column', 'count', '--import-at', hourAgo()])).code).toBe(0);
    expect((await runCli(['upload', out, '--to', `gs://${BUCKET}/stuck`], { env: env() })).code).toBe(0);
    s.sim.stuckPending = true;
    try {
      expect((await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() })).code).toBe(0);
      const r = await runCli(['wait', out, '--timeout', '2s', '--poll-interval', '1s', '--api-url', s.sim.apiUrl], { env: env() });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('did not finish within --timeout 2s');
      expect(r.stderr).toContain('Run `lp-backfill wait');
    } finally {
      await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ stuckPending: false }) });
    }
    const again = await runCli(['wait', out, '--poll-interval', '1s', '--api-url', s.sim.apiUrl], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('FINISHED, 84 succeeded');
  });

  it('step by step: transform, upload, launch, status, wait', async () => {
    const out = join(await tempDir(), 'steps');
    expect((await runCli(['transform', sample('mobile-game.csv'), '--out', out, '--count-column', 'count', '--import-at', hourAgo()])).code).toBe(0);
    expect((await runCli(['upload', out, '--bucket', BUCKET, '--prefix', 'steps'], { env: env() })).code).toBe(0);
    expect((await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() })).code).toBe(0);
    const st = await runCli(['status', out, '--api-url', s.sim.apiUrl], { env: env() });
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/job {8}clean\.csv [0-9a-f]+: (PENDING|RUNNING|FINISHED)/);
    const w = await runCli(['wait', out, '--poll-interval', '1s', '--api-url', s.sim.apiUrl], { env: env() });
    expect(w.code).toBe(0);
    expect(w.stdout).toContain('84 succeeded, 0 failed');
    const again = await runCli(['transform', sample('mobile-game.csv'), '--out', out, '--count-column', 'count']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already uploaded or launched');
    const noKey = await runCli(['wait', out, '--api-url', s.sim.apiUrl], { env: { ...env(), LEANPLUM_DEV_KEY: '' } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('LEANPLUM_DEV_KEY');
  });
});
