// The import ledger (issue 20): the bucket remembers what was imported. A run directory lost after
// a FINISHED run (a new laptop, a cleaned CI workspace) must not import every event a second time;
// --reimport does so on purpose. Everything on the stand-ins; printed advice is run through a shell.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { gameRunArgs, hourAgo } from '../helpers/game-run.js';
import { repoRoot, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 30 });
});
afterAll(() => s.stop());
beforeEach(() => {
  s.gcs.faults.clear();
  s.sim.faults.clear();
});

const IMPORT = hourAgo();
const env = () => ({ STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey });
let n = 0;
const unique = (what: string) => `${what}-${++n}-${Date.now()}`;
const uploads = () => s.gcs.log.filter((l) => l.path.startsWith('/upload')).length;
/** the CSV import job's launch POSTs */
const launches = () => s.sim.requests.filter((r) => r.action === 'multi').length;
const manifestOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
const ledgerOf = async (url: string) => {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url)!;
  const got = await s.gcs.read(m[1]!, m[2]!);
  return got === undefined ? undefined : JSON.parse(got.data.toString('utf8'));
};

/** The commands a message gives as advice: the `lp-backfill …` texts between backticks. */
const adviceIn = (text: string) => [...text.matchAll(/`(lp-backfill [^`]+)`/g)].map((m) => m[1]!);

/** Runs an advice string exactly as printed, through a real shell, `lp-backfill` being the built CLI. */
function runAdvice(advice: string, vars: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `lp-backfill() { "${process.execPath}" "${CLI}" "$@"; }\n${advice}`], {
      cwd: repoRoot,
      env: { ...process.env, ...vars },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the import ledger: a lost run directory does not import twice', () => {
  it('FINISHED run, directory deleted, same command → exit 2 naming the earlier run, nothing uploaded or launched; --reimport imports once more', async () => {
    const out = join(await tempDir(), 'first');
    const args = gameRunArgs({ out, to: `gs://${BUCKET}/${unique('ledger')}`, apiUrl: s.sim.apiUrl, importAt: IMPORT });
    const first = await runCli(args, { env: env() });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const m = await manifestOf(out);
    expect(m.importLedger.url).toMatch(new RegExp(`^gs://${BUCKET}/ledger-[\\w-]+/\\.lp-backfill/imports/[0-9a-f]{64}\\.json$`));
    const record = await ledgerOf(m.importLedger.url);
    expect(record.imports).toHaveLength(1);
    expect(record.imports[0]).toMatchObject({ runId: m.runId, reimport: false, dir: out });
    // the entry followed the job to its end
    expect(record.imports[0].parts).toEqual([
      expect.objectContaining({ file: 'clean.csv', stage: 'finished', jobId: m.parts[0].launch.jobId, jobState: 'FINISHED' }),
    ]);

    await rm(out, { recursive: true, force: true });
    const [up0, l0, jobs0] = [uploads(), launches(), s.sim.jobs.size];
    const again = await runCli(args, { env: env() });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('ALREADY_IMPORTED');
    expect(again.stderr).toContain(m.runId);
    expect(again.stderr).toContain(out);
    expect(again.stderr).toContain(`job ${m.parts[0].launch.jobId} FINISHED`);
    expect(again.stderr).toContain('not found on this machine');
    expect([uploads(), launches(), s.sim.jobs.size]).toEqual([up0, l0, jobs0]);

    // the way on, as printed: the same command with --reimport
    const reimport = adviceIn(again.stderr).find((a) => a.includes('--reimport'));
    expect(reimport).toBeDefined();
    const r = await runAdvice(reimport!, env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(s.sim.jobs.size).toBe(jobs0 + 1);
    const after = await ledgerOf(m.importLedger.url);
    expect(after.imports.map((e: { runId: string; reimport: boolean }) => e.reimport)).toEqual([false, true]);
    expect(after.imports[1].runId).toBe((await manifestOf(out)).runId);

    // a third run without the flag is refused, naming the reimport
    await rm(out, { recursive: true, force: true });
    const third = await runCli(args, { env: env() });
    expect(third.code).toBe(2);
    expect(third.stderr).toContain('a --reimport');
    expect(s.sim.jobs.size).toBe(jobs0 + 1);
  });

  it('the same run resuming (same --out) is not a second import', async () => {
    const out = join(await tempDir(), 'resumed');
    const args = gameRunArgs({ out, to: `gs://${BUCKET}/${unique('resume')}`, apiUrl: s.sim.apiUrl, importAt: IMPORT });
    expect((await runCli(args, { env: env() })).code).toBe(0);
    const jobs0 = s.sim.jobs.size;
    const again = await runCli(args, { env: env() });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(s.sim.jobs.size).toBe(jobs0);
  });
});
