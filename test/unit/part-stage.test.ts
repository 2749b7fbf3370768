import { describe, expect, it } from 'vitest';
import type { PartStage, PartState } from '../../src/model/manifest.js';
import { checkManifest } from '../../src/run/manifest.js';
import { PART_EVENTS, PART_STAGES, advance, jobEvent, nextStage, partStage, type PartEvent } from '../../src/run/part-stage.js';

// The whole table, state × event: every pair not listed here must be refused.
const ALLOWED: readonly [PartStage, PartEvent, PartStage][] = [
  ['transformed', 'upload', 'uploaded'],
  ['uploaded', 'launch', 'launching'],
  ['launching', 'launched', 'launched'],
  ['launching', 'launch-refused', 'uploaded'],
  ['launching', 'relaunch', 'uploaded'],
  ['launched', 'job-running', 'launched'],
  ['launched', 'job-finished', 'finished'],
  ['launched', 'job-failed', 'failed'],
  ['failed', 'relaunch', 'uploaded'],
  ['finished', 'job-finished', 'finished'],
  ['failed', 'job-failed', 'failed'],
];

const part = (over: Partial<PartState> = {}): PartState => ({ file: 'clean.csv', rows: 10, bytes: 100, sha256: 'x', ...over });
const upload = { at: '', outcome: 'uploaded' as const, crc32c: 'c', size: 100, generation: '1' };

describe('part stage transitions (pure, the whole table)', () => {
  for (const stage of PART_STAGES) {
    for (const event of PART_EVENTS) {
      const row = ALLOWED.find(([s, e]) => s === stage && e === event);
      it(`${stage} × ${event} → ${row === undefined ? 'refused' : row[2]}`, () => {
        const to = nextStage(stage, event);
        if (row === undefined) expect(to).toEqual({ refused: expect.stringContaining(`${stage} cannot take '${event}'`) });
        else expect(to).toBe(row[2]);
      });
    }
  }

  it('the table covers 6 stages × 8 events, 11 of them allowed', () => {
    expect(PART_STAGES.length * PART_EVENTS.length).toBe(48);
    expect(PART_STAGES.flatMap((s) => PART_EVENTS.filter((e) => typeof nextStage(s, e) === 'string')).length).toBe(ALLOWED.length);
  });

  it('advance records the stage, and a refused event throws STAGE_REFUSED leaving the part as it was', () => {
    const p = part({ stage: 'transformed' });
    advance(p, 'upload');
    expect(p.stage).toBe('uploaded');
    const done = part({ stage: 'finished' });
    expect(() => advance(done, 'launch')).toThrow(expect.objectContaining({ code: 'STAGE_REFUSED' }));
    expect(done.stage).toBe('finished');
  });

  it('a recorded stage wins over the fields; without one (older manifests) it is derived from them', () => {
    expect(partStage(part({ stage: 'launching', upload }))).toBe('launching');
    expect(partStage(part())).toBe('transformed');
    expect(partStage(part({ upload }))).toBe('uploaded');
    expect(partStage(part({ upload, launch: { status: 'launching', startedAt: '', attempts: 1 } }))).toBe('launching');
    expect(partStage(part({ upload, launch: { status: 'refused', startedAt: '', attempts: 1 } }))).toBe('uploaded');
    const launched = { status: 'launched' as const, startedAt: '', jobId: 'j', attempts: 1 };
    expect(partStage(part({ upload, launch: launched, job: { state: 'RUNNING', checkedAt: '' } }))).toBe('launched');
    expect(partStage(part({ upload, launch: launched, job: { state: 'FINISHED', checkedAt: '' } }))).toBe('finished');
    expect(partStage(part({ upload, launch: launched, job: { state: 'FAILED', checkedAt: '' } }))).toBe('failed');
  });

  it('an older part without stage advances from its derived stage', () => {
    const p = part({ upload, launch: { status: 'launching', startedAt: '', attempts: 1 } });
    advance(p, 'launched');
    expect(p.stage).toBe('launched');
  });

  it('job states map to events', () => {
    expect([jobEvent('PENDING'), jobEvent('RUNNING'), jobEvent('FINISHED'), jobEvent('FAILED')]).toEqual([
      'job-running',
      'job-running',
      'job-finished',
      'job-failed',
    ]);
  });

  it('a manifest whose part has an unknown stage is refused on load; one without stage loads', () => {
    const m = (p: PartState) => ({ schemaVersion: 2, runId: 'r', parts: [p] });
    expect(() => checkManifest(m(part({ stage: 'sent' as PartStage })), 'm.json')).toThrow(/stage "sent"/);
    expect(checkManifest(m(part()), 'm.json').parts[0]!.stage).toBeUndefined();
  });
});
