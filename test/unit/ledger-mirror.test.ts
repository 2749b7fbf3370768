import { describe, expect, it } from 'vitest';
import { reconcile } from '../../src/sinks/api/ledger-mirror.js';
import { type LedgerEntry, replay, unknownBatches } from '../../src/sinks/api/send-ledger.js';

const send = (n: number): LedgerEntry => ({ e: 'send', n, first: n * 10, rows: 10, users: 2, hash: `h${n}`, at: 't' });

describe('send ledger mirrored to GCS (--state-to)', () => {
  it('a send written ahead whose POST never started (unsent) is planned again, not unknown, and not counted as a send', () => {
    const v = replay([send(0), send(1), { e: 'unsent', n: 1, at: 't' }, send(2)]);
    expect(v.batches.get(1)!.state).toBe('planned');
    expect(v.batches.get(1)!.sends).toBe(0);
    expect(unknownBatches(v)).toEqual([0, 2]);
  });

  it('reconciles the local ledger with the mirror: up, down, or the mirror holds when they diverge', () => {
    expect(reconcile('a\nb\n', 'a\nb\n')).toBe('same');
    expect(reconcile('a\nb\nc\n', 'a\n')).toBe('pushed');
    expect(reconcile('', '')).toBe('same');
    expect(reconcile('a\n', '')).toBe('pushed');
    expect(reconcile('', 'a\nb\n')).toBe('adopted');
    expect(reconcile('a\nx\n', 'a\nb\n')).toBe('diverged');
  });
});
