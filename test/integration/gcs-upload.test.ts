import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcsEmulator } from '../stand-ins/gcs-emulator.js';
import { BackfillError } from '../../src/errors.js';
import { fileCrc32c, makeStorage, setPublicRead, uploadFile } from '../../src/gcs/storage.js';
import { tempDir } from '../helpers/run.js';
import { BUCKET } from '../helpers/servers.js';

let gcs: GcsEmulator;
let dir: string;
beforeAll(async () => {
  dir = await tempDir();
  gcs = new GcsEmulator({ dataDir: join(dir, 'data'), buckets: { [BUCKET]: {} } });
  await gcs.start();
});
afterAll(() => gcs.stop());

async function bigFile(name: string, bytes: number, seed: string): Promise<string> {
  const path = join(dir, name);
  const line = `userId,event,time,params.x\n`;
  let s = line;
  for (let i = 0; s.length < bytes; i++) s += `user-${seed}-${i},open,1760000000,"a,b ${i}"\n`;
  await writeFile(path, s);
  return path;
}

describe('upload to the GCS stand-in through @google-cloud/storage', () => {
  it('stores exactly the bytes, with crc32c and md5 as GCS reports them (single request and 256 KiB chunks)', async () => {
    const storage = makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
    for (const [name, chunkSize] of [
      ['single.csv', undefined],
      ['chunked.csv', 256 * 1024],
    ] as const) {
      const path = await bigFile(name, 700_000, name);
      const r = await uploadFile(storage, path, { bucket: BUCKET, name: `runs/x/${name}` }, { chunkSize });
      expect(r.status).toBe('uploaded');
      const stored = await gcs.read(BUCKET, `runs/x/${name}`);
      expect(stored!.data.equals(await readFile(path))).toBe(true);
      expect(stored!.meta.crc32c).toBe(await fileCrc32c(path));
      expect(r.crc32c).toBe(stored!.meta.crc32c);
    }
    const puts = gcs.log.filter((l) => l.method === 'PUT' && l.path.includes('upload_id'));
    expect(puts.filter((p) => p.status === 308).length).toBeGreaterThanOrEqual(2);
    expect(gcs.log.some((l) => l.path.includes('ifGenerationMatch=0'))).toBe(true);
  });

  it('skips a second upload of the same file and refuses a different file under the same name', async () => {
    const storage = makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
    const a = await bigFile('a.csv', 5000, 'a');
    const b = await bigFile('b.csv', 5000, 'b');
    const ref = { bucket: BUCKET, name: 'runs/y/clean.csv' };
    expect((await uploadFile(storage, a, ref)).status).toBe('uploaded');
    const gen = (await gcs.read(BUCKET, ref.name))!.meta.generation;
    expect((await uploadFile(storage, a, ref)).status).toBe('already-there');
    const err = await uploadFile(storage, b, ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackfillError);
    expect((err as BackfillError).code).toBe('GCS_FAILED');
    expect((err as BackfillError).message).toContain('already exists with different content');
    expect((await gcs.read(BUCKET, ref.name))!.meta.generation).toBe(gen);
    expect((await gcs.read(BUCKET, ref.name))!.data.equals(await readFile(a))).toBe(true);
  });

  it('grants and revokes public read; anonymous reads follow it', async () => {
    const storage = makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
    const a = await bigFile('p.csv', 3000, 'p');
    const ref = { bucket: BUCKET, name: 'runs/z/clean.csv' };
    await uploadFile(storage, a, ref);
    const anon = () => fetch(`${gcs.url}/${BUCKET}/runs/z/clean.csv`).then((r) => r.status);
    expect(await anon()).toBe(403);
    await setPublicRead(storage, ref, true);
    expect(await anon()).toBe(200);
    await setPublicRead(storage, ref, false);
    expect(await anon()).toBe(403);
    await setPublicRead(storage, ref, false);
  });

  it('resumes a resumable upload whose connection dropped mid-chunk, from the offset the server reports', async () => {
    const storage = makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
    const path = await bigFile('drop.csv', 900_000, 'drop');
    gcs.faults.add({ match: 'PUT /upload', kind: 'drop-mid-body', times: 1 });
    const n = gcs.log.length;
    const r = await uploadFile(storage, path, { bucket: BUCKET, name: 'runs/drop/clean.csv' }, { chunkSize: 256 * 1024 });
    expect(r.status).toBe('uploaded');
    expect((await gcs.read(BUCKET, 'runs/drop/clean.csv'))!.data.equals(await readFile(path))).toBe(true);
    // after the drop the server answered 308 with what it kept, and the client went on from exactly there
    // (an offset that is no chunk boundary), instead of starting over
    const starts = gcs.log
      .slice(n)
      .filter((l) => l.method === 'PUT')
      .map((l) => Number(/^bytes (\d+)-/.exec(l.range ?? '')?.[1]));
    expect(starts.some((s) => s > 0 && s % (256 * 1024) !== 0)).toBe(true);
    expect(starts.filter((s) => s === 0).length).toBeLessThanOrEqual(2);
  });

  it('takes a multipart (non-resumable) upload too, with the same precondition', async () => {
    const storage = makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
    const file = storage.bucket(BUCKET).file('runs/mp/clean.csv');
    await file.save('userId,event,time\nu,open,1\n', { resumable: false, validation: 'crc32c', preconditionOpts: { ifGenerationMatch: 0 } });
    expect((await gcs.read(BUCKET, 'runs/mp/clean.csv'))!.data.toString()).toBe('userId,event,time\nu,open,1\n');
    expect(gcs.log.some((l) => l.path.includes('uploadType=multipart'))).toBe(true);
    await expect(file.save('other', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })).rejects.toMatchObject({ code: 412 });
    const [data] = await file.download({ validation: 'crc32c' });
    expect(data.toString()).toBe('userId,event,time\nu,open,1\n');
  });

  it('a 503 on the upload is retried by the client and the upload still completes', async () => {
    const storage = makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
    const a = await bigFile('r.csv', 3000, 'r');
    gcs.faults.add({ match: 'PUT /upload', kind: 'status', status: 503, times: 1 });
    const r = await uploadFile(storage, a, { bucket: BUCKET, name: 'runs/r/clean.csv' });
    expect(r.status).toBe('uploaded');
    expect(gcs.log.some((l) => l.status === 503)).toBe(true);
  });

  it('a status fault can carry Retry-After (over the /_emulator/faults endpoint too)', async () => {
    await fetch(`${gcs.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ match: 'GET /storage/v1/b/', kind: 'status', status: 429, retryAfterSeconds: 3, times: 1 }),
    });
    const r = await fetch(`${gcs.url}/storage/v1/b/${BUCKET}`);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    expect((await fetch(`${gcs.url}/storage/v1/b/${BUCKET}`)).status).toBe(200);
  });
});
