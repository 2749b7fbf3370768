// --dedupe-key and presets: duplicates by the vendor's event id ($insert_id, uuid, messageId).
import { describe, expect, it } from 'vitest';
import { resolveMapping } from '../../src/input/mapping.js';
import { dedupeKey, processRow, type KeptRow } from '../../src/events/row.js';
import { rowOptions } from '../helpers/rule.js';

const T = Date.parse('2026-11-20T00:00:00Z') / 1000;
const opts = rowOptions(T);
const withId = resolveMapping(['userId', 'event', 'time', 'insert_id', 'params.level'], { map: {}, params: [], dedupeKey: 'insert_id' }).layout;
const kept = (fields: string[]) => processRow(fields, withId, opts) as KeptRow;

describe('dedupe by the vendor event id', () => {
  it('same user, event and id are duplicates whatever else differs; another id, user or event is not', () => {
    const a = kept(['u1', 'open', '2026-10-01T00:00:00Z', 'id-1', '3']);
    expect(a.dedupeId).toBe('id-1');
    expect(dedupeKey(kept(['u1', 'open', '2026-10-01T00:00:05Z', 'id-1', '4']))).toBe(dedupeKey(a));
    expect(dedupeKey(kept(['u1', 'open', '2026-10-01T00:00:00Z', 'id-2', '3']))).not.toBe(dedupeKey(a));
    expect(dedupeKey(kept(['u2', 'open', '2026-10-01T00:00:00Z', 'id-1', '3']))).not.toBe(dedupeKey(a));
    expect(dedupeKey(kept(['u1', 'close', '2026-10-01T00:00:00Z', 'id-1', '3']))).not.toBe(dedupeKey(a));
  });

  it('a row without an id falls back to the whole row', () => {
    const a = kept(['u1', 'open', '2026-10-01T00:00:00Z', '', '3']);
    expect(a.dedupeId).toBeUndefined();
    expect(dedupeKey(kept(['u1', 'open', '2026-10-01T00:00:00Z', '', '3']))).toBe(dedupeKey(a));
    expect(dedupeKey(kept(['u1', 'open', '2026-10-01T00:00:00Z', '', '4']))).not.toBe(dedupeKey(a));
  });

  it('without an id, two events in the same second are two events: the time is compared as written, not floored', () => {
    const a = kept(['u1', 'open', '2026-10-01T00:00:00.100Z', '', '3']);
    expect(dedupeKey(kept(['u1', 'open', '2026-10-01T00:00:00.900Z', '', '3']))).not.toBe(dedupeKey(a));
    expect(dedupeKey(kept(['u1', 'open', '1790845200123456', '', '3']))).not.toBe(dedupeKey(kept(['u1', 'open', '1790845200999999', '', '3'])));
    expect(dedupeKey(kept(['u1', 'open', '2026-10-01T00:00:00.100Z', '', '3']))).toBe(dedupeKey(a));
  });

  it('a --dedupe-key column that is not in the header stops the run, with the fix', () => {
    expect(() => resolveMapping(['userId', 'event', 'time'], { map: {}, params: [], dedupeKey: 'insert_id' })).toThrow(/dedupe: column "insert_id" not found/);
  });
});
