// Regression tests for what a fresh-eyes review of the run state machine found: each one
// reproduces the reviewer's steps with the built CLI against the stand-ins.
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import yazl from 'yazl';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sample, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

let s: Awaited<ReturnType<typeof startServers>>;
let closed: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 20 });
  closed = await startServers({ stepMs: 20, grant: false });
});
afterAll(async () => {
  await s.stop();
  await closed.stop();
});
beforeEach(() => {
  for (const x of [s, closed]) {
    x.sim.faults.clear();
    x.sim.echoKey = false;
  }
});

const env = (srv = s) => ({ STORAGE_EMULATOR_HOST: srv.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
// each test its own --to prefix: the import ledger there refuses a second run of the same inputs (issue 20)
let toPrefix = 'review-0';
let tests = 0;
beforeEach(() => {
  toPrefix = `review-${++tests}`;
});
const cloud = (srv = s) => ['--to', `gs://${BUCKET}/${toPrefix}`, '--app-id', APP.id, '--api-url', srv.sim.apiUrl, '--poll-interval', '1s', '--timeout', '30s'];
const game = [sample('mobile-game.csv'), '--count-column', 'count'];
const manifest = async (out: string) => JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
const jobsFor = (srv: typeof s, object: string) => [...srv.sim.jobs.values()].filter((j) => j.file === object);
async function allText(dir: string): Promise<string> {
  let text = '';
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) text += await readFile(join(e.parentPath, e.name), 'latin1');
  return text;
}

describe('run state, after review', () => {
  it('the same `run --relaunch` repeated after a lost launch answer never makes a second job', async () => {
    const out = join(await tempDir(), 'relaunch');
    const cmd = ['run', ...game, '--out', out, '--yes', ...cloud(closed)];
    expect((await runCli(cmd, { env: env(closed) })).code).toBe(5); // FAILED: Leanplum cannot read the bucket
    const object = (await manifest(out)).parts[0].object;
    // the relaunch's answer is lost (connection dropped): outcome unknown
    closed.sim.faults.add({ match: '/api multi', kind: 'drop', times: 1 });
    const lost = await runCli([...cmd, '--relaunch', '--public-while-importing'], { env: env(closed) });
    expect(lost.code).toBe(4);
    expect(lost.stderr).toContain('LAUNCH_UNKNOWN');
    const jobs = jobsFor(closed, object).length;
    // the very same command again, as from the shell history or a CI retry: refused, no job
    const again = await runCli([...cmd, '--relaunch', '--public-while-importing'], { env: env(closed) });
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('--relaunch-unknown');
    expect(jobsFor(closed, object)).toHaveLength(jobs);
    // the user looked: no job was created for the lost launch, so they name that launch
    const startedAt = (await manifest(out)).parts[0].launch.startedAt;
    expect(
      await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', closed.sim.apiUrl, '--relaunch-unknown', startedAt, '--public-while-importing'], {
        env: env(closed),
      }),
    ).toMatchObject({ code: 0 });
    expect((await runCli(cmd, { env: env(closed) })).code).toBe(0);
    expect(
      jobsFor(closed, object)
        .map((j) => j.state)
        .sort(),
    ).toEqual(['FAILED', 'FINISHED']);
    // the first public window (opened before the lost launch) is counted from its start
    const m = await manifest(out);
    expect(Date.parse(m.parts[0].public.since)).toBeLessThan(Date.parse(startedAt));
  });

  it("a FAILED job's message that quotes the key is scrubbed before it is stored or shown", async () => {
    const out = join(await tempDir(), 'echo-failed');
    closed.sim.echoKey = true;
    const r = await runCli(['run', ...game, '--out', out, '--yes', ...cloud(closed)], { env: env(closed) });
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('FAILED');
    expect(r.stdout + r.stderr).toContain(`****${APP.devKey.slice(-4)}`);
    expect(r.stdout + r.stderr).not.toContain(APP.devKey);
    expect(await allText(out)).not.toContain(APP.devKey);
  });

  it('transform never deletes or overwrites what it did not write: a non-empty --out without a run is refused', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'results'));
    await writeFile(join(dir, 'results', 'thesis.txt'), 'mine');
    await writeFile(join(dir, 'summary.json'), 'mine too');
    const r = await runCli(['transform', ...game, '--out', dir, '--no-report']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not empty and holds no lp-backfill run');
    expect(await readFile(join(dir, 'results', 'thesis.txt'), 'utf8')).toBe('mine');
    expect(await readFile(join(dir, 'summary.json'), 'utf8')).toBe('mine too');
  });

  it('a launch that reached nothing (nothing listens at --api-url) is a plain refusal and does not bind the run to that URL', async () => {
    const out = join(await tempDir(), 'typo');
    expect((await runCli(['transform', ...game, '--out', out, '--max-reject-rate', '1'])).code).toBe(0);
    expect((await runCli(['upload', out, '--to', `gs://${BUCKET}/typo`], { env: env() })).code).toBe(0);
    // a port where nothing listens (taken, then let go)
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const typo = await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', `http://127.0.0.1:${port}/api`], { env: env() });
    expect(typo.code).toBe(4);
    expect(typo.stderr).toContain('LEANPLUM_FAILED');
    expect(typo.stderr).toContain('nothing was sent, no job was created');
    expect((await manifest(out)).leanplum).toBeUndefined();
    expect((await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() })).code).toBe(0);
    // and now the run is bound to the app it went to
    expect((await runCli(['wait', out, '--api-url', s.sim.apiUrl, '--poll-interval', '1s'], { env: env() })).code).toBe(0);
    const relaunchElsewhere = await runCli(['launch', out, '--yes', '--relaunch', '--app-id', 'other-app', '--api-url', s.sim.apiUrl], { env: env() });
    expect(relaunchElsewhere.code).toBe(2);
    expect(relaunchElsewhere.stderr).toContain('launched into app app-test, not other-app');
  });

  it('a run directory written before parts had a stage (schema 2 without `stage`) resumes: launched, waited, each stage recorded', async () => {
    const out = join(await tempDir(), 'no-stage');
    expect((await runCli(['transform', ...game, '--out', out, '--max-reject-rate', '1'])).code).toBe(0);
    expect((await runCli(['upload', out, '--to', `gs://${BUCKET}/no-stage`], { env: env() })).code).toBe(0);
    const m = await manifest(out);
    expect(m.parts.map((p: { stage?: string }) => p.stage)).toEqual(m.parts.map(() => 'uploaded'));
    for (const p of m.parts) delete p.stage;
    await writeFile(join(out, 'manifest.json'), JSON.stringify(m));
    expect((await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl], { env: env() })).code).toBe(0);
    expect((await manifest(out)).parts.map((p: { stage?: string }) => p.stage)).toEqual(m.parts.map(() => 'launched'));
    expect((await runCli(['wait', out, '--api-url', s.sim.apiUrl, '--poll-interval', '1s'], { env: env() })).code).toBe(0);
    expect((await manifest(out)).parts.map((p: { stage?: string }) => p.stage)).toEqual(m.parts.map(() => 'finished'));
  });

  it('one unknown launch does not hold back the results of the other parts; adopting the job found in Leanplum completes the run', async () => {
    const dir = await tempDir();
    const input = join(dir, 'in.csv');
    const t = Math.floor(Date.now() / 1000) - 86_400;
    await writeFile(input, `userId,event,time\n${Array.from({ length: 300 }, (_, i) => `u${String(i).padStart(3, '0')},open,${t}`).join('\n')}\n`);
    const out = join(dir, 'parts');
    const cmd = ['run', input, '--out', out, '--max-part-bytes', '4096', '--yes', ...cloud()];
    // the second launch's answer is lost after the server created the job (the first launch takes the harmless fault)
    s.sim.faults.add({ match: '/api multi', kind: 'slow', delayMs: 0, times: 1 });
    s.sim.faults.add({ match: '/api multi', kind: 'drop-after', times: 1 });
    const first = await runCli(cmd, { env: env() });
    expect(first.code, first.stderr).toBe(4);
    const m = await manifest(out);
    expect(m.parts.length).toBeGreaterThanOrEqual(2);
    const unknown = m.parts.find((p: { launch?: { status: string } }) => p.launch?.status === 'launching');
    expect(unknown).toBeDefined();
    const wait = await runCli(['wait', out, '--api-url', s.sim.apiUrl, '--poll-interval', '1s'], { env: env() });
    expect(wait.code).toBe(4);
    expect(wait.stderr).toContain(`--adopt-job ${unknown.file}=`);
    // the launched parts were followed to the end and their results written
    expect(wait.stdout).toMatch(/FINISHED/);
    const summary = JSON.parse(await readFile(join(out, 'results', 'summary.json'), 'utf8'));
    expect(summary.jobs.length).toBe(m.parts.length - 1);
    const found = jobsFor(s, unknown.object);
    expect(found).toHaveLength(1);
    const adopt = await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--adopt-job', `${unknown.file}=${found[0]!.id}`], {
      env: env(),
    });
    expect(adopt.code).toBe(0);
    // the same command again (shell history) is nothing to do; another part's job id is refused
    const adoptArgs = ['launch', out, '--yes', '--app-id', APP.id, '--api-url', s.sim.apiUrl, '--adopt-job'];
    const again = await runCli([...adoptArgs, `${unknown.file}=${found[0]!.id}`], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already recorded, nothing to do');
    const otherPart = m.parts.find((p: { file: string }) => p.file !== unknown.file);
    const stolen = await runCli([...adoptArgs, `${unknown.file}=${otherPart.launch.jobId}`], { env: env() });
    expect(stolen.code).toBe(2);
    expect(stolen.stderr).toContain(`is already recorded for ${otherPart.file}`);
    expect((await runCli(cmd, { env: env() })).code).toBe(0);
    expect(jobsFor(s, unknown.object)).toHaveLength(1);
  });

  it('`run -` resumes only when standard input is the same bytes', async () => {
    const out = join(await tempDir(), 'stdin');
    const csv = await readFile(sample('mobile-game.csv'));
    const args = ['run', '-', '--out', out, '--count-column', 'count', '--yes', ...cloud()];
    expect((await runCli(args, { env: env(), stdin: csv })).code).toBe(0);
    const other = await runCli(args, { env: env(), stdin: Buffer.concat([csv, Buffer.from('u9,open,2026-11-01T00:00:00Z,1,,,\n')]) });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('other input');
    expect((await runCli(args, { env: env(), stdin: csv })).code).toBe(0);
  });

  it('`launch` alone on a run whose job FAILED says so (exit 5) instead of ending quietly', async () => {
    const out = join(await tempDir(), 'failed-launch');
    expect((await runCli(['run', ...game, '--out', out, '--yes', ...cloud(closed)], { env: env(closed) })).code).toBe(5);
    const r = await runCli(['launch', out, '--yes', '--app-id', APP.id, '--api-url', closed.sim.apiUrl], { env: env(closed) });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('were not launched again');
    expect(r.stderr).toContain('--relaunch');
  });

  it('a manifest whose part points outside the run directory is refused before anything is read or sent', async () => {
    const out = join(await tempDir(), 'evil-manifest');
    expect((await runCli(['transform', ...game, '--out', out, '--max-reject-rate', '1'])).code).toBe(0);
    const m = await manifest(out);
    m.parts[0].file = '../../../etc/hostname';
    await writeFile(join(out, 'manifest.json'), JSON.stringify(m));
    const r = await runCli(['upload', out, '--to', `gs://${BUCKET}/evil`], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not clean.csv or clean-part-NNN.csv');
    await writeFile(join(out, 'manifest.json'), '{"schemaVersion":2}');
    const r2 = await runCli(['upload', out, '--to', `gs://${BUCKET}/evil`], { env: env() });
    expect(r2.code).toBe(2);
    expect(r2.stderr).not.toContain('internal error');
  });

  it('--out that is a file, and an input it may not read: exit 2, one line, nothing left behind', async (ctx) => {
    const dir = await tempDir();
    await writeFile(join(dir, 'afile'), 'x');
    const file = await runCli(['transform', ...game, '--out', join(dir, 'afile')]);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('is a file, not a directory');
    expect(file.stderr).not.toMatch(/^\s+at /m);

    const input = join(dir, 'unreadable.csv');
    await writeFile(input, await readFile(sample('mobile-game.csv')));
    await chmod(input, 0o000);
    await chmod(dir, 0o777);
    const out = join(dir, 'out');
    // root reads anything: run as nobody when the tests run as root (CI), as we are otherwise
    const asRoot = process.getuid?.() === 0;
    if (asRoot && spawnSync('setpriv', ['--version']).status !== 0) ctx.skip('running as root without setpriv: cannot run the CLI as an unprivileged user');
    const main = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
    const nobody = ['--reuid', '65534', '--regid', '65534', '--clear-groups'];
    // a checkout inside a directory only root may enter (a fresh clone under a 0700 temporary
    // directory): nobody cannot even load the CLI, so there is nothing to test this way
    if (asRoot) {
      const probe = `const fs = require('node:fs'); fs.accessSync(${JSON.stringify(main)}, fs.constants.R_OK); fs.accessSync(${JSON.stringify(dir)}, fs.constants.W_OK | fs.constants.X_OK)`;
      if (spawnSync('setpriv', [...nobody, process.execPath, '-e', probe]).status !== 0)
        ctx.skip(`uid 65534 cannot reach the CLI (${main}) or ${dir}: this checkout sits where only root may enter`);
    }
    const node = [process.execPath, main, 'transform', input, '--out', out, '--count-column', 'count'];
    const r = asRoot ? spawnSync('setpriv', [...nobody, ...node]) : spawnSync(node[0]!, node.slice(1));
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain('INPUT_UNREADABLE');
    expect(r.stderr.toString()).not.toMatch(/^\s+at /m);
    // the --out this command made is not left behind, empty
    expect(await readdir(out).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
  });

  it('server-rejects.csv names the zip entry and line a row came from, also after another input', async () => {
    const dir = await tempDir();
    // Mixpanel export lines; the 2020 ones are clamped, and Leanplum (its clock 8 days late) flags them
    const line = (user: string, year: number) => JSON.stringify({ event: 'open', properties: { time: Date.UTC(year, 0, 2) / 1000, distinct_id: user } });
    const z = new yazl.ZipFile();
    z.addBuffer(Buffer.from(`${line('a1', 2026)}\n${line('a2', 2020)}\n`), 'f0.json');
    z.addBuffer(Buffer.from(`${line('b1', 2020)}\n`), 'f1.json');
    z.end();
    const chunks: Buffer[] = [];
    for await (const c of z.outputStream) chunks.push(c as Buffer);
    await writeFile(join(dir, 'export.zip'), Buffer.concat(chunks));
    await writeFile(join(dir, 'extra.ndjson'), `${line('c1', 2026)}\n${line('c2', 2020)}\n`);
    const out = join(dir, 'out');
    await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 8 * 86400 }) });
    try {
      const r = await runCli(
        ['run', join(dir, 'export.zip'), join(dir, 'extra.ndjson'), '--out', out, '--preset', 'mixpanel', '--order', 'input', '--yes', ...cloud()],
        {
          env: env(),
        },
      );
      expect(r.code).toBe(5);
    } finally {
      await fetch(`${s.sim.url}/_sim/config`, { method: 'POST', body: JSON.stringify({ clockOffsetSeconds: 0 }) });
    }
    const rejects = parse(await readFile(join(out, 'server-rejects.csv')), { columns: true }) as Record<string, string>[];
    expect(rejects.map((x) => [x['sourceFile'], x['sourceLine'], x['userId']])).toEqual([
      [`${join(dir, 'export.zip')}:f0.json`, '2', 'a2'],
      [`${join(dir, 'export.zip')}:f1.json`, '1', 'b1'],
      [join(dir, 'extra.ndjson'), '2', 'c2'],
    ]);
  });
});
