import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, parseRetryAfter } from '../../src/leanplum/client.js';
import { scrubError } from '../../src/leanplum/redact.js';
import { DEFAULT_RETRY, retryDelay } from '../../src/leanplum/retry.js';
import { acquireRunLock } from '../../src/run/lock.js';
import { changedOptions, isRefusal, mayLaunch, mayResume, mayTransform, mayUpload, mayWait, partStage, sinkGate } from '../../src/run/run-machine.js';
import type { Manifest, PartState } from '../../src/model/manifest.js';
import { tempDir } from '../helpers/run.js';

const NOW = new Date('2026-11-20T12:00:00Z');
const part = (over: Partial<PartState> = {}): PartState => ({ file: 'clean.csv', rows: 10, bytes: 100, sha256: 'x', ...over });
const uploaded = (over: Partial<PartState> = {}) =>
  part({ bucket: 'b', object: 'o/clean.csv', upload: { at: '', outcome: 'uploaded', crc32c: 'c', size: 100, generation: '1' }, ...over });
const launched = (state: 'RUNNING' | 'FINISHED' | 'FAILED', jobId = 'j1') =>
  uploaded({ launch: { status: 'launched', startedAt: '', jobId, attempts: 1 }, job: { state, checkedAt: '' } });

function manifest(parts: PartState[], t: Partial<NonNullable<Manifest['transform']>> = {}): Manifest {
  return {
    schemaVersion: 2,
    runId: 'r',
    createdAt: '',
    updatedAt: '',
    tool: { name: 'lp-backfill', version: '0' },
    parts,
    transform: {
      at: '',
      inputs: [{ name: 'in.csv', bytes: 1, sha256: 'aa' }],
      importAt: '2026-11-20T00:00:00Z',
      importAtGiven: false,
      staleAfter: '2026-11-22T00:00:00Z',
      sampled: null,
      rejectRate: 0,
      maxRejectRate: 0.01,
      rejectRateExceeded: false,
      conservationOk: true,
      options: { 'max-delay': '2d' },
      optionsHash: 'h',
      ...t,
    },
  };
}
const target = { bucket: 'b', prefix: 'p' };
const launch = (m: Manifest | undefined, relaunch = false, now = NOW, relaunchUnknown: string[] = []) =>
  mayLaunch(m, 'dir', { now, relaunch, relaunchUnknown, apiUrl: 'https://api.leanplum.com/api', appId: 'a' });

describe('run state machine (pure gates)', () => {
  it('parts move transformed → uploaded → launching → launched → finished | failed', () => {
    expect(partStage(part())).toBe('transformed');
    expect(partStage(uploaded())).toBe('uploaded');
    expect(partStage(uploaded({ launch: { status: 'launching', startedAt: '', attempts: 1 } }))).toBe('launching');
    expect(partStage(uploaded({ launch: { status: 'refused', startedAt: '', attempts: 1 } }))).toBe('uploaded');
    expect(partStage(launched('RUNNING'))).toBe('launched');
    expect(partStage(launched('FINISHED'))).toBe('finished');
    expect(partStage(launched('FAILED'))).toBe('failed');
  });

  it('upload and launch refuse a sampled, over-the-limit, unbalanced, half-committed or missing transform', () => {
    const cases: [Manifest | undefined, string][] = [
      [undefined, 'no-transform'],
      [{ ...manifest([part()]), committing: { startedAt: '', staging: '.staging' } }, 'committing'],
      [manifest([part()], { sampled: 3 }), 'sampled'],
      [manifest([part()], { rejectRateExceeded: true, rejectRate: 0.5 }), 'reject-rate'],
      [manifest([part()], { conservationOk: false }), 'conservation'],
    ];
    for (const [m, gate] of cases) {
      expect(mayUpload(m, 'dir', target, NOW)?.gate).toBe(gate);
      const l = launch(m);
      expect(isRefusal(l) && l.gate).toBe(gate);
    }
    expect(mayUpload(manifest([part()]), 'dir', target, NOW)).toBeUndefined();
    // a stale output is not uploaded either (it could never be launched)
    expect(mayUpload(manifest([part()]), 'dir', target, new Date('2026-11-22T00:00:01Z'))?.gate).toBe('stale');
  });

  it('upload and launch refuse a run sent (or being sent) through the API sink: its rows would be imported twice', () => {
    const sent: Manifest = { ...manifest([part()]), sink: 'api', send: { startedAt: '2026-11-20T01:00:00Z', completedAt: '2026-11-20T01:05:00Z' } };
    const sending: Manifest = { ...manifest([part()]), send: { startedAt: '2026-11-20T01:00:00Z' } };
    const bound: Manifest = { ...manifest([part()]), sink: 'api' };
    for (const m of [sent, sending, bound]) {
      const up = mayUpload(m, 'dir', target, NOW);
      expect(up?.gate).toBe('other-sink');
      expect(up?.message).toContain('API sink');
      const l = launch(m);
      expect(isRefusal(l) && l.gate).toBe('other-sink');
    }
    // a transform no sink has taken yet may go either way
    expect(mayUpload(manifest([part()]), 'dir', target, NOW)).toBeUndefined();
    // and the API sink refuses a CSV-job run (send-gates.ts asks the same gate)
    expect(sinkGate(manifest([uploaded()]), 'dir', 'api')?.gate).toBe('other-sink');
    expect(sinkGate({ ...manifest([part()]), sink: 'csv-job' }, 'dir', 'api')?.message).toContain('CSV import job');
    expect(sinkGate(manifest([part()]), 'dir', 'api')).toBeUndefined();
  });

  it('launch: new parts and refused launches go; unknown outcomes and FAILED jobs only with --relaunch; finished never', () => {
    const m = manifest([
      uploaded(),
      uploaded({ launch: { status: 'refused', startedAt: '', attempts: 1 } }),
      launched('FINISHED'),
      launched('RUNNING'),
      launched('FAILED'),
    ]);
    const plain = launch(m);
    expect(isRefusal(plain)).toBe(false);
    if (!isRefusal(plain)) {
      expect(plain.launch.map((x) => [m.parts.indexOf(x.part), x.replaces])).toEqual([
        [0, undefined],
        [1, undefined],
      ]);
      expect(plain.failedWithoutRelaunch.map((p) => m.parts.indexOf(p))).toEqual([4]);
    }
    const re = launch(m, true);
    if (isRefusal(re)) throw new Error(re.message);
    expect(re.launch.map((x) => [m.parts.indexOf(x.part), x.replaces])).toEqual([
      [0, undefined],
      [1, undefined],
      [4, 'FAILED'],
    ]);

    const unknown = manifest([uploaded({ launch: { status: 'launching', startedAt: '2026-11-20T10:00:00.000Z', attempts: 1 } })]);
    const refused = launch(unknown);
    expect(isRefusal(refused) && refused.gate).toBe('launch-unknown');
    expect(isRefusal(refused) && refused.fix).toContain('--relaunch-unknown 2026-11-20T10:00:00.000Z');
    // --relaunch is for FAILED jobs only: it never relaunches an unknown outcome
    expect(launch(unknown, true)).toMatchObject({ gate: 'launch-unknown' });
    // naming another launch (a command repeated from the shell history) does not match this one
    expect(launch(unknown, false, NOW, ['2026-11-19T10:00:00.000Z'])).toMatchObject({ gate: 'launch-unknown' });
    const again = launch(unknown, false, NOW, ['2026-11-20T10:00:00.000Z']);
    expect(!isRefusal(again) && again.launch[0]!.replaces).toBe('unknown');
    expect(launch(manifest([part()])) as { gate: string }).toMatchObject({ gate: 'not-uploaded' });
  });

  it('launch refuses a stale clamp only when something would be launched', () => {
    const late = new Date('2026-11-22T00:00:01Z');
    expect(launch(manifest([uploaded()]), false, late)).toMatchObject({ gate: 'stale' });
    expect(launch(manifest([uploaded()]), false, new Date('2026-11-22T00:00:00Z'))).toMatchObject({ launch: [expect.anything()] });
    expect(launch(manifest([launched('RUNNING')]), false, late)).toMatchObject({ launch: [] });
  });

  it('the API URL comes from the command line; a different one in the manifest is refused, for launch and wait alike', () => {
    const m = { ...manifest([launched('RUNNING')]), leanplum: { appId: 'a', apiUrl: 'http://127.0.0.1:9/api' } };
    expect(mayWait(m, 'dir', 'https://api.leanplum.com/api')?.gate).toBe('api-url-changed');
    expect(mayWait(m, 'dir', 'http://127.0.0.1:9/api')).toBeUndefined();
    expect(launch(m)).toMatchObject({ gate: 'api-url-changed' });
    const otherApp = { ...manifest([uploaded()]), leanplum: { appId: 'b', apiUrl: 'https://api.leanplum.com/api' } };
    expect(launch(otherApp)).toMatchObject({ gate: 'app-changed' });
    expect(mayWait(manifest([uploaded()]), 'dir', 'https://api.leanplum.com/api')?.gate).toBe('not-launched');
  });

  it('resume: other inputs or options are refused, naming each option; a default import time is not compared', () => {
    const m = manifest([part()], { options: { 'max-delay': '2d', map: {} } });
    expect(mayResume(m, 'dir', ['aa'], { 'max-delay': '2d', map: {} })).toBeUndefined();
    expect(mayResume(m, 'dir', ['bb'], { 'max-delay': '2d', map: {} })?.gate).toBe('inputs-changed');
    const r = mayResume(m, 'dir', ['aa'], { 'max-delay': '1d', map: { userId: 'u' } });
    expect(r?.gate).toBe('options-changed');
    expect(r?.message).toContain('--map (then {}, now {"userId":"u"}), --max-delay (then "2d", now "1d")');
    expect(mayResume(m, 'dir', ['aa'], { 'max-delay': '2d', map: {}, 'import-at': '2026-11-21T00:00:00Z' })?.gate).toBe('options-changed');
    expect(mayResume(m, 'dir', ['aa'], { 'max-delay': '2d', map: {}, 'import-at': '2026-11-20T00:00:00Z' })).toBeUndefined();
    expect(changedOptions({ a: 1, b: null }, { a: 1 })).toEqual([]);
    // a run made before --encoding existed read its inputs as UTF-8: it resumes under the default, not another encoding
    expect(changedOptions({ a: 1 }, { a: 1, encoding: 'utf-8' })).toEqual([]);
    expect(changedOptions({ a: 1 }, { a: 1, encoding: 'latin1' })).toEqual(['encoding']);
  });

  // review of issue 19: the users flags are recorded under one key, and the message named a flag "--users"
  it('resume: changed --kind users flags are named as the flags, not as "--users"', () => {
    const m = manifest([part()], { options: { users: { attrs: [] } } });
    const r = mayResume(m, 'dir', ['aa'], { users: { attrs: [{ column: 'a', name: 'a' }] } });
    expect(r?.gate).toBe('options-changed');
    expect(r?.message).toContain('the --kind users flags --map, --attr, --drop-attr, --rename-attr, --clear-empty (then {"attrs":[]}');
    expect(r?.message).not.toContain('--users');
  });
});

describe('run lock', () => {
  it('of many concurrent takers exactly one wins; the rest are told who holds it', async () => {
    const dir = await tempDir();
    const tries = await Promise.allSettled(Array.from({ length: 8 }, () => acquireRunLock(dir, 'test')));
    const won = tries.filter((t) => t.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const t of tries) if (t.status === 'rejected') expect(String(t.reason.message)).toContain(`pid ${process.pid} on ${hostname()}`);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireRunLock>>>).value.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('a lock from another host is never taken over', async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.lock'), JSON.stringify({ pid: 1, host: 'another-host', startedAt: '', command: 'run' }));
    await expect(acquireRunLock(dir, 'test')).rejects.toMatchObject({
      code: 'RUN_LOCKED',
      message: expect.stringContaining('pid 1 on another-host'),
      hint: expect.stringContaining('delete'),
    });
  });
});

describe('key safety', () => {
  it('loopback means an address in 127.0.0.0/8, ::1 or exactly localhost', () => {
    for (const h of ['127.0.0.1', '127.255.0.9', 'localhost', '[::1]', '::1', '[0:0:0:0:0:0:0:1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['127.evil.example', '127.0.0.1.nip.io', 'localhost.evil', '128.0.0.1', '[::2]', '0.0.0.0', '1.127.0.0', 'LOCALHOST.example'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('the key leaves no trace in message, stack, hint, body or cause chain', () => {
    const key = 'dev-KEY-abcdef123456';
    const inner = new Error(`socket said ${key}`);
    const outer = Object.assign(new Error(`failed: ${encodeURIComponent(key + '/x')}`, { cause: new AggregateError([inner], `agg ${key}`) }), {
      hint: `use ${key}`,
      body: `{"key":"${key}"}`,
    });
    scrubError(outer, key);
    const all = JSON.stringify([
      outer.message,
      outer.stack,
      outer.hint,
      outer.body,
      (outer.cause as AggregateError).message,
      (outer.cause as AggregateError).stack,
      inner.message,
      inner.stack,
    ]);
    expect(all).not.toContain(key);
    expect(all).toContain('****3456');
  });

  it('Retry-After (seconds or HTTP date) is a floor for 429/503 retries, and too long a wait gives up', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter('Fri, 20 Nov 2026 12:00:30 GMT', Date.parse('2026-11-20T12:00:00Z'))).toBe(30_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(retryDelay(1, { kind: 'status', status: 429, retryAfterMs: 20_000 }, DEFAULT_RETRY, 0)).toBe(20_000);
    expect(retryDelay(1, { kind: 'status', status: 503, retryAfterMs: 10 }, DEFAULT_RETRY, 0)).toBe(1000);
    expect(retryDelay(1, { kind: 'status', status: 429, retryAfterMs: 301_000 }, DEFAULT_RETRY, 0)).toBeUndefined();
    // only 429/503 carry the meaning; a 500's header does not stretch the backoff
    expect(retryDelay(1, { kind: 'status', status: 500, retryAfterMs: 20_000 }, DEFAULT_RETRY, 0)).toBe(1000);
  });
});

describe('transform into a run directory', () => {
  it('is refused once a send through the API sink has begun (it overwrote clean.csv and deleted the results: a stuck run)', () => {
    const m = manifest([]);
    expect(mayTransform(m, 'dir')).toBeUndefined();
    const sent = {
      ...m,
      sink: 'api' as const,
      send: { startedAt: '2026-12-01T00:00:00Z' },
      leanplum: { appId: 'app1', apiUrl: 'https://api.leanplum.com/api' },
    };
    const r = mayTransform(sent, 'dir');
    expect(r?.message).toContain('already sent (or being sent) through the API sink');
    expect(r?.fix).toContain('`lp-backfill send dir --app-id app1`');
  });
});
