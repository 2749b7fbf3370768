import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkApiUrl } from '../../src/leanplum/client.js';
import { tallyResultLines } from '../../src/sinks/csv-job/wait.js';
import { parseLaunch, parseStatus, LeanplumProtocolError } from '../../src/leanplum/contract.js';
import { maskSecret, redact } from '../../src/leanplum/redact.js';
import { DEFAULT_RETRY, retryDelay } from '../../src/leanplum/retry.js';

describe('retryDelay', () => {
  it('retries 429, 5xx and network errors with growing, capped, jittered delays', () => {
    expect(retryDelay(1, { kind: 'status', status: 429 }, DEFAULT_RETRY, 0)).toBe(1000);
    expect(retryDelay(1, { kind: 'status', status: 429 }, DEFAULT_RETRY, 1)).toBe(2000);
    expect(retryDelay(2, { kind: 'status', status: 503 }, DEFAULT_RETRY, 1)).toBe(4000);
    expect(retryDelay(3, { kind: 'network' }, DEFAULT_RETRY, 1)).toBe(8000);
    expect(retryDelay(5, { kind: 'network' }, DEFAULT_RETRY, 1)).toBe(30000);
    expect(retryDelay(6, { kind: 'network' }, DEFAULT_RETRY, 1)).toBeUndefined();
  });

  it('never retries other 4xx, and gives a malformed answer two more chances only', () => {
    for (const status of [400, 401, 403, 404]) expect(retryDelay(1, { kind: 'status', status }, DEFAULT_RETRY, 0.5)).toBeUndefined();
    expect(retryDelay(2, { kind: 'malformed' }, DEFAULT_RETRY, 0.5)).toBeDefined();
    expect(retryDelay(3, { kind: 'malformed' }, DEFAULT_RETRY, 0.5)).toBeUndefined();
  });

  it('stays within [exp/2, exp] for any jitter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const d = retryDelay(attempt, { kind: 'network' }, DEFAULT_RETRY, r)!;
        const exp = Math.min(DEFAULT_RETRY.capMs, DEFAULT_RETRY.baseMs * 2 ** (attempt - 1));
        expect(d).toBeGreaterThanOrEqual(exp / 2);
        expect(d).toBeLessThanOrEqual(exp);
      }),
    );
  });
});

describe('redact', () => {
  it('masks every occurrence, plain and URL-encoded, keeping the last 4', () => {
    const key = 'dev/KEY+secret=1234';
    const text = `key=${key} and ${encodeURIComponent(key)} again ${key}`;
    const out = redact(text, key);
    expect(out).not.toContain(key);
    expect(out).not.toContain(encodeURIComponent(key));
    expect(out).toContain(maskSecret(key));
    expect(maskSecret(key)).toBe('****1234');
  });
});

describe('the Leanplum contract', () => {
  it('fails loudly on answers it does not understand', () => {
    expect(() => parseLaunch({ response: [{ success: true }] }, '')).toThrow(LeanplumProtocolError);
    expect(() => parseStatus({ response: [{ success: true, state: 'DONE' }] }, '')).toThrow(/unknown job state/);
    expect(() => parseStatus({ response: [{ success: true, state: 'FINISHED', data: { successCount: 1 } }] }, '')).toThrow(/successesCount/);
    expect(() => parseStatus({ nope: 1 }, '')).toThrow(/response/);
    expect(parseStatus({ response: [{ success: true, state: 'FAILED', error: { message: 'x' } }] }, '')).toEqual({ state: 'FAILED', error: 'x' });
  });

  it('refuses plain http except to loopback', () => {
    expect(() => checkApiUrl('http://api.leanplum.com/api')).toThrow(/unencrypted/);
    expect(checkApiUrl('http://127.0.0.1:9/api').hostname).toBe('127.0.0.1');
    expect(checkApiUrl('https://api.leanplum.com/api').protocol).toBe('https:');
  });
});

describe('tallyResultLines', () => {
  it('counts Past event, clock skew and time skew warnings, groups messages by shape, flags rows by index', () => {
    const t = tallyResultLines([
      '{"success":true}',
      '{"success":true,"warning":{"message":"Past event detected (731 days ago). Rewriting timestamp."}}',
      '{"success":true,"warning":{"message":"Past event detected (400 days ago). Rewriting timestamp."}}',
      '{"success":true,"warning":{"message":"Device clock skew detected (3 days behind)"}}',
      '{"success":true,"warning":{"message":"Anomaly detected: time skew. User will be excluded from analytics."}}',
      '{"success":false,"error":{"message":"Invalid event name"}}',
    ]);
    expect([t.counts.warnings, t.counts.pastEventWarnings, t.counts.clockSkewWarnings, t.counts.timeSkewWarnings]).toEqual([4, 2, 1, 1]);
    expect(t.counts.byMessage).toEqual({
      'Past event detected (N days ago). Rewriting timestamp.': 2,
      'Device clock skew detected (N days behind)': 1,
      'Anomaly detected: time skew. User will be excluded from analytics.': 1,
      'Invalid event name': 1,
    });
    expect(t.flagged.map((f) => [f.row, f.kind])).toEqual([
      [1, 'warning'],
      [2, 'warning'],
      [3, 'warning'],
      [4, 'warning'],
      [5, 'error'],
    ]);
    expect(() => tallyResultLines(['{"ok":1}'])).toThrow(/success/);
  });
});
