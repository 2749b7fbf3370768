import { createHash } from 'node:crypto';

// The packer itself is pure and lives in events/ (the transform counts the API's lookups with it).
export { type Batch, BatchPacker, MULTI_LIMITS, type PackerLimits, mayStart, packRows } from '../../events/multi-batches.js';

/** A UUID-shaped (version 8, RFC 9562 "custom") name derived from a text: the same text, the same id. */
function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const runHex = new Map<string, string>();
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * The action's reqId: from the run, the row's source position (input unit and line, from
 * clean.lines) and its index in the clean output (one source line may give several rows: a count
 * column). Deterministic, so a resent batch carries the same reqIds (Leanplum's SDK dedupe key).
 * UUID-shaped (version 8): 48 bits naming the run (from its id's SHA-256), then the unit (12 bits),
 * the line (30 bits) and the index (32 bits) as they are, so a reqId in Leanplum's logs leads back
 * to its source line. Positions beyond those widths take a SHA-256 of all four instead.
 */
export function reqIdOf(runId: string, file: number, line: number, index: number): string {
  if (file > 0xfff || line >= 2 ** 30 || index >= 2 ** 32) return uuidOf(`lp-backfill/req/${runId}/${file}:${line}/${index}`);
  let r = runHex.get(runId);
  if (r === undefined) {
    r = createHash('sha256').update(`lp-backfill/run/${runId}`).digest('hex').slice(0, 12);
    runHex.set(runId, r);
  }
  return `${r.slice(0, 8)}-${r.slice(8, 12)}-8${hex(file, 3)}-${hex(0x8000 | (line >>> 16), 4)}-${hex(line & 0xffff, 4)}${hex(index, 8)}`;
}

/** The batch's uuid: from the run and the batch number. */
export const batchUuidOf = (runId: string, n: number): string => uuidOf(`lp-backfill/batch/${runId}/${n}`);
