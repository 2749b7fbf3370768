// gs:// inputs against the GCS stand-in, read by the real @google-cloud/storage client: listing in
// name order (patterns and prefixes), generations pinned and recorded with crc32c, sha256 taken
// while streaming, and a resume refused once an object has a new generation.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackfillError } from '../../src/errors.js';
import { makeStorage } from '../../src/gcs/storage.js';
import { listInputObjects } from '../../src/gcs/read.js';
import { mayResume } from '../../src/run/run-machine.js';
import { inputIdentities } from '../../src/input/sources.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { runTransform } from '../../src/transform/transform.js';
import type { Manifest } from '../../src/model/manifest.js';
import { GcsEmulator } from '../stand-ins/gcs-emulator.js';
import { runCli } from '../helpers/cli.js';
import { IMPORT_AT, readOutputs, sample, tempDir } from '../helpers/run.js';
import { BUCKET } from '../helpers/servers.js';

let gcs: GcsEmulator;
const storage = () => makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
const put = async (name: string, data: Buffer | string) => {
  await storage().bucket(BUCKET).file(name).save(data, { resumable: false });
  return (await gcs.read(BUCKET, name))!.meta;
};
const line = (user: string, t: string) =>
  JSON.stringify({ type: 'track', event: 'Open', userId: user, messageId: `m-${user}`, timestamp: t, properties: { n: 1 } }) + '\n';

beforeAll(async () => {
  gcs = new GcsEmulator({ dataDir: join(await tempDir('gcs-'), 'data'), buckets: { [BUCKET]: {} } });
  await gcs.start();
  // written out of name order; one object outside the pattern, one "folder" placeholder
  await put('exports/2026/b.json.gz', gzipSync(line('u2', '2026-10-02T00:00:00Z')));
  await put('exports/2026/a.json.gz', gzipSync(line('u1', '2026-10-01T00:00:00Z')));
  await put('exports/2026/notes.txt', 'not an export');
  await put('exports/2026/', '');
  await put('exports/2026x/c.json.gz', gzipSync(line('u3', '2026-10-03T00:00:00Z')));
  await put('exports/amplitude.zip', await readFile(sample('amplitude-export.zip')));
});
afterAll(() => gcs.stop());

describe('gs:// inputs through the GCS stand-in', () => {
  it('lists a pattern within one path segment and a prefix as a folder, in name order', async () => {
    const names = async (url: string) => (await listInputObjects(storage(), url)).map((o) => o.name);
    expect(await names(`gs://${BUCKET}/exports/2026/*.json.gz`)).toEqual(['exports/2026/a.json.gz', 'exports/2026/b.json.gz']);
    expect(await names(`gs://${BUCKET}/exports/2026`)).toEqual(['exports/2026/a.json.gz', 'exports/2026/b.json.gz', 'exports/2026/notes.txt']);
    expect(await names(`gs://${BUCKET}/exports/**/*.json.gz`)).toEqual(['exports/2026/a.json.gz', 'exports/2026/b.json.gz', 'exports/2026x/c.json.gz']);
    expect(await names(`gs://${BUCKET}/exports/amplitude.zip`)).toEqual(['exports/amplitude.zip']);
    const none = await listInputObjects(storage(), `gs://${BUCKET}/nothing/*.json`).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(BackfillError);
    expect((none as BackfillError).code).toBe('INPUT_UNREADABLE');
  });

  it('streams the objects with their generation and crc32c, sha256 of the stored bytes', async () => {
    const out = await tempDir();
    const cfg = buildTransformConfig(
      { input: [`gs://${BUCKET}/exports/2026/*.json.gz`], out, importAt: IMPORT_AT, preset: 'segment', order: 'input' },
      new Date(),
    );
    const { summary } = await runTransform(cfg, { storage: async () => storage() });
    const { clean } = await readOutputs(out);
    expect(clean.map((r) => [r['userId'], r['time']])).toEqual([
      ['u1', '1790812800'],
      ['u2', '1790899200'],
    ]);
    const a = (await gcs.read(BUCKET, 'exports/2026/a.json.gz'))!;
    expect(summary.inputs[0]).toEqual({
      name: `gs://${BUCKET}/exports/2026/a.json.gz`,
      bytes: a.data.length,
      sha256: createHash('sha256').update(a.data).digest('hex'),
      delimiter: '',
      format: 'ndjson',
      generation: a.meta.generation,
      crc32c: a.meta.crc32c,
    });
    expect(summary.inputs.map((i) => i.name)).toEqual([`gs://${BUCKET}/exports/2026/a.json.gz`, `gs://${BUCKET}/exports/2026/b.json.gz`]);
    // each download is pinned to the generation listed
    const reads = gcs.log.filter((l) => l.path.includes('a.json.gz') && l.path.includes('alt=media'));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((l) => l.path.includes(`generation=${a.meta.generation}`))).toBe(true);
  });

  it('reads a zip object (spooled to disk: a zip is read from its end) and names its entries', async () => {
    const out = await tempDir();
    const cfg = buildTransformConfig(
      { input: [`gs://${BUCKET}/exports/amplitude.zip`], out, importAt: IMPORT_AT, preset: 'amplitude', order: 'input', maxRejectRate: 1 },
      new Date(),
    );
    const { summary } = await runTransform(cfg, { storage: async () => storage() });
    expect(summary.counts).toMatchObject({ read: 8, kept: 4 });
    const { rejects } = await readOutputs(out);
    expect(rejects.map((r) => r['file'])).toContain(`gs://${BUCKET}/exports/amplitude.zip:187520/187520_2026-10-02_18#0.json.gz`);
  });

  it('records generations in the manifest, and a resume requires the same ones', async () => {
    const dir = join(await tempDir(), 'run');
    const url = `gs://${BUCKET}/exports/2026/*.json.gz`;
    const r = await runCli(['transform', url, '--out', dir, '--import-at', IMPORT_AT, '--preset', 'segment', '--order', 'input'], {
      env: { STORAGE_EMULATOR_HOST: gcs.url },
    });
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const a = (await gcs.read(BUCKET, 'exports/2026/a.json.gz'))!.meta;
    expect(m.transform!.inputs[0]).toMatchObject({ name: `gs://${BUCKET}/exports/2026/a.json.gz`, generation: a.generation, crc32c: a.crc32c });
    const options = m.transform!.options;
    expect(mayResume(m, dir, await inputIdentities([url], async () => storage()), options)).toBeUndefined();
    // the same bytes uploaded again: a new generation, so another input
    await storage().bucket(BUCKET).file('exports/2026/a.json.gz').delete();
    await put('exports/2026/a.json.gz', gzipSync(line('u1', '2026-10-01T00:00:00Z')));
    const refusal = mayResume(m, dir, await inputIdentities([url], async () => storage()), options);
    expect(refusal?.gate).toBe('inputs-changed');
    expect(refusal?.message).toContain('generation');
  });
});
