import { describe, expect, it } from 'vitest';
import type { Manifest, PartState } from '../../src/model/manifest.js';
import { canaryGate, canaryVerdict } from '../../src/run/canary-gate.js';
import { mayWait } from '../../src/run/run-machine.js';

// The canary's gate (issue 20), decided from what the run recorded.
const part = (file: string, extra: Partial<PartState> = {}): PartState => ({ file, rows: 10, bytes: 100, sha256: 'x', ...extra });
const launched = { status: 'launched' as const, startedAt: 't', jobId: 'j1', attempts: 1 };
const run = (parts: PartState[]): Manifest =>
  ({ schemaVersion: 2, runId: 'r', createdAt: 't', updatedAt: 't', tool: { name: 'x', version: '0' }, transform: {}, parts }) as unknown as Manifest;

describe('canary gate', () => {
  it('failed rows and "Past event detected" warnings count together against --canary-max-failures', () => {
    expect(canaryVerdict({ failedRows: 0, pastEventWarnings: 0 }, 0)).toBe('passed');
    expect(canaryVerdict({ failedRows: 0, pastEventWarnings: 1 }, 0)).toBe('stopped');
    expect(canaryVerdict({ failedRows: 2, pastEventWarnings: 1 }, 3)).toBe('passed');
    expect(canaryVerdict({ failedRows: 2, pastEventWarnings: 2 }, 3)).toBe('stopped');
  });

  it('none without a canary part; pending until its job FINISHED; then judged again with each allowance', () => {
    expect(canaryGate(run([part('clean.csv')]), 0)).toEqual({ state: 'none' });
    expect(canaryGate(run([part('clean-part-001.csv', { canary: true }), part('clean-part-002.csv')]), 0).state).toBe('pending');
    const running = part('clean-part-001.csv', { canary: true, launch: launched, job: { state: 'RUNNING', checkedAt: 't' } });
    expect(canaryGate(run([running]), 0).state).toBe('pending');
    const failedJob = part('clean-part-001.csv', { canary: true, launch: launched, job: { state: 'FAILED', checkedAt: 't' } });
    expect(canaryGate(run([failedJob]), 5).state).toBe('pending');
    const done = part('clean-part-001.csv', { canary: true, launch: launched, job: { state: 'FINISHED', checkedAt: 't', failures: 2, pastEventWarnings: 1 } });
    expect(canaryGate(run([done, part('clean-part-002.csv')]), 0)).toMatchObject({ state: 'stopped', failedRows: 2, pastEventWarnings: 1 });
    expect(canaryGate(run([done, part('clean-part-002.csv')]), 3)).toMatchObject({ state: 'passed', maxFailures: 3 });
  });

  it('once the rest was launched (an allowance let it go on), the verdict that let it go holds: a rerun without the allowance is not stopped', () => {
    const done = part('clean-part-001.csv', { canary: true, launch: launched, job: { state: 'FINISHED', checkedAt: 't', failures: 1, pastEventWarnings: 0 } });
    const m = run([done, part('clean-part-002.csv', { launch: { ...launched, jobId: 'j2' } })]);
    m.canary = { part: 'clean-part-001.csv', verdict: 'passed', failedRows: 1, pastEventWarnings: 0, maxFailures: 1, at: 't' };
    expect(canaryGate(m, 0)).toMatchObject({ state: 'passed', failedRows: 1, maxFailures: 1 });
    // not launched yet: judged again with each allowance
    expect(canaryGate(run([done, part('clean-part-002.csv')]), 0).state).toBe('stopped');
  });

  it('wait follows the canary alone while the other parts wait for its verdict; never a run with nothing launched', () => {
    const canary = part('clean-part-001.csv', { canary: true, launch: launched, stage: 'launched' });
    expect(mayWait(run([canary, part('clean-part-002.csv', { stage: 'uploaded' })]), 'd', 'u')).toBeUndefined();
    const notYet = part('clean-part-001.csv', { canary: true, stage: 'uploaded' });
    expect(mayWait(run([notYet, part('clean-part-002.csv', { stage: 'uploaded' })]), 'd', 'u')?.gate).toBe('not-launched');
    expect(mayWait(run([part('clean.csv', { stage: 'uploaded' })]), 'd', 'u')?.gate).toBe('not-launched');
  });
});
