import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEDGER_FILE, type LedgerEntry, LedgerWriter, readLedger, replay, unknownBatches, unknownToken } from '../../src/sinks/api/send-ledger.js';
import { tempDir } from '../helpers/run.js';

const send = (n: number): LedgerEntry => ({ e: 'send', n, first: n * 10, rows: 10, users: 2, hash: `h${n}`, at: 't' });
const answer = (n: number): LedgerEntry => ({ e: 'answer', n, at: 't', attempts: 1, ok: 10, warned: 0, failed: 0, flagged: [] });

describe('send ledger', () => {
  it('replays planned → in flight → answered | unknown, and a refusal back to planned', () => {
    const v = replay([
      send(0),
      answer(0),
      send(1),
      send(2),
      { e: 'refused', n: 2, at: 't', attempts: 1, message: '403' },
      send(3),
      { e: 'unknown', n: 3, at: 't', attempts: 6, message: 'x' },
    ]);
    expect([...v.batches.entries()].map(([n, b]) => [n, b.state])).toEqual([
      [0, 'answered'],
      [1, 'in-flight'],
      [2, 'planned'],
      [3, 'unknown'],
    ]);
    expect(unknownBatches(v)).toEqual([1, 3]);
  });

  it('the unknown-state token changes when those batches are sent again, so an old command names an older state', () => {
    const first = [send(0), send(1), answer(0)];
    const t1 = unknownToken(replay(first));
    expect(t1).toMatch(/^u[0-9a-f]{10}$/);
    expect(unknownToken(replay([...first]))).toBe(t1);
    const again: LedgerEntry[] = [...first, { e: 'resend', n: 1, at: 't', token: t1! }, send(1)];
    const t2 = unknownToken(replay(again));
    expect(t2).toBeDefined();
    expect(t2).not.toBe(t1);
    expect(unknownToken(replay([...again, answer(1)]))).toBeUndefined();
    expect(replay([...first, { e: 'skip', n: 1, at: 't', token: t1! }]).batches.get(1)!.state).toBe('skipped');
  });

  it('an answer for a batch never sent is a damaged ledger', () => {
    expect(() => replay([answer(4)])).toThrow(/never sent/);
  });

  it('every append is on disk when it resolves; appends made together share one fsync', async () => {
    const dir = await tempDir();
    const w = await LedgerWriter.open(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(send(i))));
    await w.close();
    expect(w.syncs).toBeLessThan(50);
    expect(await readLedger(dir)).toHaveLength(50);
  });

  it('a last line cut short by a crash was never acted on: ignored, and cut off before the next append', async () => {
    const dir = await tempDir();
    const path = join(dir, LEDGER_FILE);
    await writeFile(path, `${JSON.stringify(send(0))}\n${JSON.stringify(answer(0)).slice(0, 20)}`);
    expect(await readLedger(dir)).toEqual([send(0)]);
    const w = await LedgerWriter.open(dir);
    await w.append(answer(0));
    await w.close();
    expect(await readLedger(dir)).toEqual([send(0), answer(0)]);
    await appendFile(path, 'garbage\n');
    await expect(readLedger(dir)).rejects.toThrow(/damaged/);
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(4);
  });
});
