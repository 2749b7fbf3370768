import { join } from 'node:path';
import { GcsEmulator } from '../stand-ins/gcs-emulator.js';
import { LeanplumSimulator } from '../stand-ins/leanplum-simulator.js';
import { tempDir } from './run.js';

export const BUCKET = 'lp-test-bucket';
export const APP = { id: 'app-test', devKey: 'dev-SECRET-key-1234abcd', prodKey: 'prod-SECRET-key-9876wxyz' };
export const READER_TOKEN = 'leanplum-reader-token';

/** Both stand-ins on free loopback ports; Leanplum's account may read BUCKET unless `grant` is false. */
export async function startServers(opts: { grant?: boolean; stepMs?: number; dataDir?: string } = {}) {
  const dataDir = opts.dataDir ?? join(await tempDir('gcs-'), 'data');
  const gcs = new GcsEmulator({ dataDir, buckets: { [BUCKET]: { readers: opts.grant === false ? [] : [READER_TOKEN] } } });
  await gcs.start();
  const sim = new LeanplumSimulator({
    apps: { [APP.id]: { devKey: APP.devKey, prodKey: APP.prodKey } },
    gcsUrl: gcs.url,
    readerToken: READER_TOKEN,
    stepMs: opts.stepMs ?? 50,
  });
  await sim.start();
  return {
    gcs,
    sim,
    dataDir,
    async stop() {
      await sim.stop();
      await gcs.stop();
    },
  };
}
