import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawTransformOptions } from '../../src/config.js';
import { BackfillError } from '../../src/errors.js';
import { makeStorage } from '../../src/gcs/storage.js';
import type { Manifest } from '../../src/model/manifest.js';
import { ImportLedger } from '../../src/run/import-ledger-gcs.js';
import {
  alreadyImported,
  decide,
  type IdentityParts,
  identityParts,
  type ImportEntry,
  importIdentity,
  type LedgerRecord,
  ledgerObjectName,
  placeOfLedgerUrl,
  withEntry,
} from '../../src/run/import-ledger.js';
import { statePrefixOf } from '../../src/run/remote-state.js';
import { againCommand } from '../../src/cli/context.js';
import type { RunLock } from '../../src/run/lock.js';
import { emptyManifest } from '../../src/run/manifest.js';
import { buildTransformConfig } from '../../src/transform/transform-config.js';
import { effectiveOptions } from '../../src/transform/transform-options.js';
import { GcsEmulator } from '../stand-ins/gcs-emulator.js';
import { tempDir } from '../helpers/run.js';
import { BUCKET } from '../helpers/servers.js';

const NOW = new Date('2026-11-20T12:00:00Z');
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

/** The run's manifest as a transform with these flags would record it. */
function manifestFor(raw: Partial<RawTransformOptions>, inputs: { sha256: string; name?: string }[] = [{ sha256: SHA_A }]): Manifest {
  const cfg = buildTransformConfig({ input: 'events.csv', out: 'runs/x', ...raw }, NOW);
  const m = emptyManifest(NOW);
  m.transform = {
    at: NOW.toISOString(),
    inputs: inputs.map((i, k) => ({ name: i.name ?? `in-${k}.csv`, bytes: 1, sha256: i.sha256 })),
    importAt: NOW.toISOString(),
    importAtGiven: cfg.importAtGiven,
    staleAfter: NOW.toISOString(),
    sampled: null,
    rejectRate: 0,
    maxRejectRate: cfg.maxRejectRate,
    rejectRateExceeded: false,
    conservationOk: true,
    options: effectiveOptions(cfg),
    optionsHash: '',
  };
  m.parts = [{ file: 'clean.csv', rows: 3, bytes: 10, sha256: SHA_A, stage: 'uploaded' }];
  return m;
}

const id = (raw: Partial<RawTransformOptions>, inputs?: { sha256: string; name?: string }[], app = 'app-1', sink: 'csv-job' | 'api' = 'csv-job') =>
  importIdentity(identityParts(manifestFor(raw, inputs), app, sink));

describe('import identity', () => {
  const base: Partial<RawTransformOptions> = { importAt: '2026-11-20T00:00:00Z' };

  it('changes with every covered option', () => {
    const variants: Partial<RawTransformOptions>[] = [
      { map: ['userId=uid'] },
      { param: ['level'] },
      { countColumn: 'count' },
      { originalTimeParam: 'orig' },
      { maxDelay: '1d' },
      { clampAge: '300d' },
      { clampMode: 'monotone' },
      { futureTolerance: '2h' },
      { minTime: '2001-01-01T00:00:00Z' },
      { tz: 'Europe/Berlin' },
      { timeFormat: 'unix-ms' },
      { maxCount: 10 },
      { valueIsTotal: true },
      { dedupe: true },
      { delimiter: ';' },
      { shard: '0/2' },
      { shard: '1/2' },
      { format: 'ndjson' },
      { preset: 'mixpanel' },
      { paramsFrom: ['properties'] },
      { anonymous: 'device_id' },
      { sourceTz: 'Europe/Berlin' },
      { encoding: 'latin1' },
    ];
    const seen = new Map<string, string>([[id(base), 'base']]);
    for (const v of variants) {
      const x = id({ ...base, ...v });
      expect(seen.get(x), JSON.stringify(v)).toBeUndefined();
      seen.set(x, JSON.stringify(v));
    }
  });

  it('does not change with the sink: the same events through the JSON API after a CSV job are a second import', () => {
    expect(id(base, undefined, 'app-1', 'api')).toBe(id(base, undefined, 'app-1', 'csv-job'));
  });

  it('changes with the inputs, the app and the kind', () => {
    const b = id(base);
    expect(id(base, [{ sha256: SHA_B }])).not.toBe(b);
    expect(id(base, [{ sha256: SHA_A }, { sha256: SHA_B }])).not.toBe(b);
    expect(id(base, undefined, 'app-2')).not.toBe(b);
    const parts = identityParts(manifestFor(base), 'app-1', 'csv-job');
    expect(importIdentity({ ...parts, kind: 'users' } satisfies IdentityParts)).not.toBe(b);
  });

  it('names its ledger object without the input names: a copy of the export under another name or path is the same import', () => {
    // the record shows the names (covers.inputNames), but hashing them made a renamed or moved copy
    // of the same bytes (another laptop, another working directory) a new identity: imported twice
    const parts = identityParts(manifestFor(base), 'app-1', 'csv-job');
    const at = (names: string[]) => ImportLedger.at({} as never, { bucket: 'b', prefix: 'p' }, { ...parts, inputNames: names }, () => undefined).identity;
    expect(at(['samples/export.csv'])).toBe(at(['/tmp/renamed.csv']));
    expect(at(['samples/export.csv'])).toBe(importIdentity(parts));
  });

  it('takes how the inputs were read, not the reading flags as typed: --format csv or --delimiter , on a comma CSV is the same import', () => {
    const read = (raw: Partial<RawTransformOptions>, format: string, delimiter: string) => {
      const m = manifestFor({ ...base, ...raw });
      m.transform!.inputs = m.transform!.inputs.map((i) => ({ ...i, format, delimiter }));
      return importIdentity(identityParts(m, 'app-1', 'csv-job'));
    };
    const auto = read({}, 'csv', ',');
    expect(read({ format: 'csv' }, 'csv', ',')).toBe(auto);
    expect(read({ delimiter: ',' }, 'csv', ',')).toBe(auto);
    // read otherwise: other rows, another import
    expect(read({ delimiter: ';' }, 'csv', ';')).not.toBe(auto);
    expect(read({ format: 'ndjson' }, 'ndjson', '')).not.toBe(auto);
  });

  it('does not change with the import time, the output directory, the input names or their order', () => {
    const b = id(base);
    // how the same rows are cut into parts, ordered, or stopped on: a rerun with another value is the same import
    for (const v of [
      { maxPartBytes: '1MB' },
      { order: 'input' as const },
      { maxRejectRate: 0.5 },
      { scanRecords: 10 },
      { maxRecordBytes: '2MB' },
      { canary: 0 },
    ])
      expect(id({ ...base, ...v }), JSON.stringify(v)).toBe(b);
    expect(id({ importAt: '2026-11-21T08:30:00Z' })).toBe(b);
    expect(id({})).toBe(b); // a default import time ("now")
    expect(importIdentity(identityParts({ ...manifestFor({ ...base, out: 'elsewhere/run' }) }, 'app-1', 'csv-job'))).toBe(b);
    expect(id(base, [{ sha256: SHA_A, name: '/home/me/export.csv' }])).toBe(b);
    expect(id(base, [{ sha256: SHA_A }, { sha256: SHA_B }])).toBe(id(base, [{ sha256: SHA_B }, { sha256: SHA_A }]));
  });
});

const entry = (runId: string, reimport = false): ImportEntry => ({
  runId,
  recordedAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
  reimport,
  host: 'h',
  dir: '/d',
  apiUrl: 'u',
  tool: 't',
  parts: [],
});

describe('ledger decisions', () => {
  const rec = (...runs: string[]): LedgerRecord => ({
    schemaVersion: 1,
    identity: 'x',
    covers: { ...identityParts(manifestFor({}), 'a', 'csv-job'), inputNames: [] },
    imports: runs.map((r) => entry(r)),
  });
  it('creates when nothing is recorded, resumes its own run, refuses another, appends with --reimport', () => {
    expect(decide(undefined, 'r1', false)).toEqual({ kind: 'create' });
    expect(decide(rec('r1'), 'r1', false)).toEqual({ kind: 'resume' });
    expect(decide(rec('r1', 'r2'), 'r1', true)).toEqual({ kind: 'resume' });
    expect(decide(rec('r1', 'r2'), 'r3', false)).toMatchObject({ kind: 'refuse', count: 2, earlier: { runId: 'r2' } });
    expect(decide(rec('r1'), 'r3', true)).toEqual({ kind: 'reimport' });
  });
  it('an entry put in again replaces its own, keeping when and why it was recorded', () => {
    const r = withEntry(rec('r1', 'r2'), rec(), { ...entry('r1'), recordedAt: 'later', parts: [{ file: 'clean.csv', rows: 1, stage: 'finished' }] });
    expect(r.imports.map((e) => e.runId)).toEqual(['r1', 'r2']);
    expect(r.imports[0]!.recordedAt).toBe(NOW.toISOString());
    expect(r.imports[0]!.parts).toHaveLength(1);
  });
});

describe('where ledgers live, and what a refusal says', () => {
  it('a ledger URL gives back its bucket and prefix; a state object its --state-to prefix', () => {
    const id = 'c'.repeat(64);
    expect(placeOfLedgerUrl(`gs://b/${ledgerObjectName('backfills/2026', id)}`)).toEqual({ bucket: 'b', prefix: 'backfills/2026' });
    expect(placeOfLedgerUrl(`gs://b/${ledgerObjectName('', id)}`)).toEqual({ bucket: 'b', prefix: '' });
    expect(placeOfLedgerUrl('gs://b/p/manifest.json')).toBeUndefined();
    expect(statePrefixOf({ bucket: 'b', name: 'p/q/shard-1-of-4/manifest.json' })).toEqual({ bucket: 'b', prefix: 'p/q' });
    expect(statePrefixOf({ bucket: 'b', name: 'p/manifest.json' })).toEqual({ bucket: 'b', prefix: 'p' });
    expect(statePrefixOf({ bucket: 'b', name: 'manifest.json' })).toEqual({ bucket: 'b', prefix: '' });
  });

  it('the --reimport advice is the command as typed, each word quoted for the shell', () => {
    expect(againCommand(['--reimport'], ['run', 'my export.csv', '--out', 'runs/a', '--map', "event=it's"])).toBe(
      `lp-backfill run 'my export.csv' --out runs/a --map 'event=it'\\''s' --reimport`,
    );
    expect(againCommand(['--reimport'], ['run', 'x.csv', '--reimport'])).toBe('lp-backfill run x.csv --reimport');
  });

  it('the refusal names the earlier run, where it ran, its jobs, and both ways on', () => {
    const e: ImportEntry = {
      ...entry('20261120-120000-abcdef'),
      host: 'laptop',
      dir: '/home/me/runs/may',
      parts: [
        { file: 'clean-part-001.csv', rows: 5, stage: 'finished', jobId: 'J1', jobState: 'FINISHED' },
        { file: 'clean-part-002.csv', rows: 5, stage: 'launching' },
      ],
    };
    const err = alreadyImported('app-1', e, 2, 'gs://b/p/.lp-backfill/imports/x.json', {
      dirHere: false,
      reimport: 'lp-backfill run x.csv --reimport',
    });
    expect(err.code).toBe('ALREADY_IMPORTED');
    expect(err.message).toContain('run 20261120-120000-abcdef');
    expect(err.message).toContain('laptop:/home/me/runs/may (not found on this machine)');
    expect(err.message).toContain('clean-part-001.csv job J1 FINISHED, clean-part-002.csv launching (outcome unknown)');
    expect(err.message).toContain('the last of 2 imports recorded');
    expect(err.hint).toContain('That run is unfinished');
    expect(err.hint).toContain('`lp-backfill run x.csv --reimport`');
    expect(err.hint).toContain('every event twice');
    // its directory is not here and it kept no --state-to: no advice to finish it "from its run
    // directory" or "its --state-to task"; the launch of unknown outcome is named, with where to look
    expect(err.hint).not.toContain('--state-to task');
    expect(err.hint).toContain('laptop:/home/me/runs/may');
    expect(err.hint).toContain("clean-part-002.csv's launch has no known outcome");
    expect(err.hint).toContain("app's import jobs in Leanplum");
    // with a --state-to: its task is the way to finish it
    const withState = alreadyImported('app-1', { ...e, stateUrl: 'gs://b/s/manifest.json' }, 2, 'gs://b/x.json', { dirHere: false, reimport: 'r' });
    expect(withState.hint).toContain('run its --state-to task again (its state: gs://b/s/manifest.json)');
  });

  it('a users or totals import refused says what a second one does to attributes, not "every event twice"', () => {
    const e: ImportEntry = {
      ...entry('20261120-120000-abcdef'),
      parts: [{ file: 'clean.csv', rows: 3, stage: 'finished', jobId: 'J1', jobState: 'FINISHED' }],
    };
    const ways = { dirHere: false, reimport: 'lp-backfill run people.csv --kind users --reimport' };
    const users = alreadyImported('app-1', e, 1, 'gs://b/x.json', ways, [], 'users');
    expect(users.hint).not.toContain('event');
    expect(users.hint).toContain('To set the same user attributes again on purpose');
    expect(users.hint).toContain('`lp-backfill run people.csv --kind users --reimport`');
    const totals = alreadyImported('app-1', e, 1, 'gs://b/x.json', ways, [], 'totals');
    expect(totals.hint).not.toContain('every event twice');
    expect(totals.hint).toContain('To set the same per-user event totals again on purpose');
    expect(alreadyImported('app-1', e, 1, 'gs://b/x.json', ways, [], 'events').hint).toContain('every event twice');
  });
});

describe('the ledger record in GCS: compare-and-swap', () => {
  let gcs: GcsEmulator;
  beforeAll(async () => {
    gcs = new GcsEmulator({ dataDir: join(await tempDir(), 'data'), buckets: { [BUCKET]: {} } });
    await gcs.start();
  });
  afterAll(() => gcs.stop());

  const storage = () => makeStorage({ apiEndpoint: gcs.url, projectId: 'test' });
  const lockAt = (dir: string): RunLock => ({ dir, holder: { pid: 1, host: 'h', startedAt: '', command: 'run' }, release: async () => undefined });
  const ways = async () => ({ dirHere: false, reimport: 'lp-backfill run … --reimport' });
  const ledger = (prefix: string, m: Manifest) =>
    ImportLedger.at(storage(), { bucket: BUCKET, prefix }, { ...identityParts(m, 'app-1', 'csv-job'), inputNames: [] }, () => undefined);
  const claim = (prefix: string, m: Manifest, dir: string, reimport = false) =>
    ledger(prefix, m).claim(lockAt(dir), m, { reimport, apiUrl: 'http://127.0.0.1:9/api', now: NOW }, ways);

  it('two runs racing to record the same identity: exactly one wins, the other is refused and names it', async () => {
    for (let round = 0; round < 5; round++) {
      const prefix = `race-${round}`;
      const a = manifestFor({});
      const b = { ...manifestFor({}), runId: `${a.runId}-b` };
      const got = await Promise.allSettled([claim(prefix, a, '/runs/a'), claim(prefix, b, '/runs/b')]);
      const won = got.filter((g) => g.status === 'fulfilled');
      const lost = got.filter((g): g is PromiseRejectedResult => g.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(BackfillError);
      expect((lost[0]!.reason as BackfillError).code).toBe('ALREADY_IMPORTED');
      const winner = got[0]!.status === 'fulfilled' ? a : b;
      expect((lost[0]!.reason as Error).message).toContain(winner.runId);
      const l = ledger(prefix, a);
      const stored = JSON.parse((await gcs.read(BUCKET, l.ref.name))!.data.toString('utf8')) as LedgerRecord;
      expect(stored.imports.map((e) => e.runId)).toEqual([winner.runId]);
    }
  });

  it('a damaged ledger object (not JSON, or not a record) stops the run naming it as the import ledger, with the ways on', async () => {
    const a = manifestFor({});
    const l = ledger('damaged', a);
    for (const text of ['garbage{', '{"schemaVersion":1,"identity":"x","imports":[{"runId":"r"}]}']) {
      await storage().bucket(BUCKET).file(l.ref.name).save(text);
      const err = await claim('damaged', a, '/runs/a').then(
        () => undefined,
        (e: unknown) => e as BackfillError,
      );
      expect(err?.code).toBe('STAGE_REFUSED');
      expect(err?.message).toContain(`gs://${BUCKET}/${l.ref.name}`);
      expect(err?.message).toContain('import ledger');
      expect(err?.hint).not.toContain('state object');
      expect(err?.hint).toContain('Nothing was launched or sent');
      expect(err?.hint).toContain('delete the object');
    }
  });

  it('two tasks of the same run racing: both go on (the run resumes), one entry', async () => {
    const a = manifestFor({});
    const got = await Promise.allSettled([claim('same', a, '/runs/a'), claim('same', a, '/runs/a2')]);
    expect(got.map((g) => g.status)).toEqual(['fulfilled', 'fulfilled']);
    const stored = JSON.parse((await gcs.read(BUCKET, ledger('same', a).ref.name))!.data.toString('utf8')) as LedgerRecord;
    expect(stored.imports.map((e) => e.runId)).toEqual([a.runId]);
  });

  it('--reimport racing with a progress update of the first run: both entries survive', async () => {
    const a = manifestFor({});
    const lock = lockAt('/runs/a');
    await ledger('upd', a).claim(lock, a, { reimport: false, apiUrl: 'u', now: NOW }, ways);
    const b = { ...manifestFor({}), runId: `${a.runId}-b` };
    a.parts[0]!.stage = 'launched';
    a.parts[0]!.launch = { status: 'launched', startedAt: NOW.toISOString(), jobId: 'J1', attempts: 1 };
    await Promise.all([lock.ledger!.save(a, NOW), claim('upd', b, '/runs/b', true)]);
    const stored = JSON.parse((await gcs.read(BUCKET, ledger('upd', a).ref.name))!.data.toString('utf8')) as LedgerRecord;
    expect(stored.imports.map((e) => [e.runId, e.reimport])).toEqual([
      [a.runId, false],
      [b.runId, true],
    ]);
    expect(stored.imports[0]!.parts[0]).toMatchObject({ stage: 'launched', jobId: 'J1' });
  });

  it('a burst of saves is paced (at most one write a second, the latest progress winning) and the last state is in the object at the end', async () => {
    const N = 40;
    const a = manifestFor({});
    a.parts = Array.from({ length: N }, (_, i) => ({
      file: `clean-part-${String(i + 1).padStart(3, '0')}.csv`,
      rows: 1,
      bytes: 1,
      sha256: SHA_A,
      stage: 'uploaded' as const,
    }));
    let t = 0;
    const clock = { ms: () => t, sleep: async (ms: number) => void (t += ms) };
    const l = ImportLedger.at(
      storage(),
      { bucket: BUCKET, prefix: 'paced' },
      { ...identityParts(a, 'app-1', 'csv-job'), inputNames: [] },
      () => undefined,
      clock,
    );
    const lock = lockAt('/runs/paced');
    await l.claim(lock, a, { reimport: false, apiUrl: 'u', now: NOW }, ways);
    const stored = async () => JSON.parse((await gcs.read(BUCKET, l.ref.name))!.data.toString('utf8')) as LedgerRecord;
    // the writes, counted as the object's generations seen after each save
    let seen = (await gcs.read(BUCKET, l.ref.name))!.meta.generation;
    let writes = 0;
    const count = async () => {
      const g = (await gcs.read(BUCKET, l.ref.name))!.meta.generation;
      if (g !== seen) writes++;
      seen = g;
    };
    // two saves per part launched (launching, then launched with its job id), 100 ms apart: 8 s in all
    for (const [i, p] of a.parts.entries()) {
      p.stage = 'launching';
      p.launch = { status: 'launching', startedAt: NOW.toISOString(), attempts: 1 };
      await lock.ledger!.save(a, NOW);
      await count();
      if (i === 0) expect((await stored()).imports[0]!.parts[0]!.stage).toBe('launching'); // the first launch is on record before its POST
      t += 50;
      p.stage = 'launched';
      p.launch = { status: 'launched', startedAt: NOW.toISOString(), jobId: `J${i}`, attempts: 1 };
      await lock.ledger!.save(a, NOW);
      await count();
      t += 50;
    }
    const window = Math.ceil(t / 1000);
    await lock.ledger!.flush();
    await count();
    expect(writes).toBeLessThanOrEqual(window + 1); // + the flush at the end of the command
    expect(writes).toBeGreaterThan(1);
    const parts = (await stored()).imports[0]!.parts;
    expect(parts.map((p) => [p.stage, p.jobId])).toEqual(a.parts.map((_, i) => ['launched', `J${i}`]));
  });
});
