import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCommandOptions } from '../../src/cli/command-options.js';
import type { Args } from '../../src/cli/context.js';
import { buildParser, type CommandName } from '../../src/cli/parser.js';
import { LeanplumClient } from '../../src/leanplum/client.js';
import * as manifest from '../../src/run/manifest.js';
import * as machine from '../../src/run/run-machine.js';
import { sample, tempDir } from '../helpers/run.js';
import { APP, BUCKET, startServers } from '../helpers/servers.js';

// Issue 17: "the manifest is read six times before the launch POST and the launch gate is asked
// twice". The orchestrator loads the manifest once per command and passes it along; the launch
// gate is asked once. Counted in-process through the CLI's own `run` against the stand-ins.

vi.mock('../../src/run/manifest.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/run/manifest.js')>();
  return { ...orig, loadManifest: vi.fn(orig.loadManifest) };
});
vi.mock('../../src/run/run-machine.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../src/run/run-machine.js')>();
  return { ...orig, mayLaunch: vi.fn(orig.mayLaunch) };
});

let s: Awaited<ReturnType<typeof startServers>>;
beforeAll(async () => {
  s = await startServers({ stepMs: 10 });
});
afterAll(() => s.stop());

async function args(argv: string[]): Promise<Args> {
  let got: Args | undefined;
  const keep = async (a: Args) => {
    got = a;
  };
  const names: CommandName[] = ['transform', 'preview', 'upload', 'launch', 'status', 'wait', 'run', 'send'];
  await buildParser(argv, Object.fromEntries(names.map((n) => [n, keep])) as Record<CommandName, (a: Args) => Promise<void>>, (m) => {
    throw new Error(m);
  }).parseAsync();
  return got!;
}

describe('run: one manifest load and one launch gate before the launch POST', () => {
  it('a fresh run reads manifest.json once and asks mayLaunch once before the POST', async () => {
    const out = join(await tempDir(), 'run');
    const env = { STORAGE_EMULATOR_HOST: s.gcs.url, LEANPLUM_DEV_KEY: APP.devKey };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const loads = vi.mocked(manifest.loadManifest);
    const gates = vi.mocked(machine.mayLaunch);
    loads.mockClear();
    gates.mockClear();
    const atPost: { loads: number; gates: number }[] = [];
    const launch = LeanplumClient.prototype.launch;
    const spy = vi.spyOn(LeanplumClient.prototype, 'launch').mockImplementation(function (this: LeanplumClient, ...a) {
      atPost.push({ loads: loads.mock.calls.length, gates: gates.mock.calls.length });
      return launch.apply(this, a);
    });
    try {
      const a = await args([
        'run',
        sample('mobile-game.csv'),
        '--out',
        out,
        '--count-column',
        'count',
        '--yes',
        '--quiet',
        '--to',
        `gs://${BUCKET}/orchestrator`,
        '--app-id',
        APP.id,
        '--api-url',
        s.sim.apiUrl,
        '--poll-interval',
        '1s',
        '--timeout',
        '30s',
      ]);
      const { runCommand } = await import('../../src/cli/commands/cloud.js');
      await runCommand(runCommandOptions(a, process.env, new Date()));
    } finally {
      spy.mockRestore();
      quiet.mockRestore();
      process.env = saved;
    }
    expect(atPost).toHaveLength(1);
    console.log(`before the launch POST: manifest loaded ${atPost[0]!.loads} time(s), launch gate asked ${atPost[0]!.gates} time(s)`);
    expect(atPost[0]).toEqual({ loads: 1, gates: 1 });
  });
});
