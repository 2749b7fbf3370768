/** What an input holds, decided by its first bytes (after gunzip), never by its name. */
export type InputFormat = 'csv' | 'ndjson' | 'json' | 'zip' | 'parquet';
/** What --format may force: the text formats. Zip and Parquet are always recognised by their magic bytes. */
export const FORMAT_CHOICES = ['auto', 'csv', 'ndjson', 'json'] as const;
export type FormatChoice = (typeof FORMAT_CHOICES)[number];

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** Bytes needed to decide: the magic numbers, or the first character that is not whitespace. */
export function headDecides(head: Buffer): boolean {
  if (head.length < 4) return false;
  for (let i = 0; i < head.length; i++) if (!isSpace(head[i]!)) return true;
  return false;
}

/**
 * `PK\x03\x04` (or an empty archive's `PK\x05\x06`) → zip; `PAR1` → Parquet; otherwise the first
 * character that is not whitespace (after a byte-order mark): `{` → NDJSON, `[` → a JSON array,
 * anything else → CSV. `forced` replaces the last three decisions, not the magic numbers.
 */
export function detectFormat(head: Buffer, forced: FormatChoice = 'auto'): InputFormat {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))) return 'zip';
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'PAR1') return 'parquet';
  if (forced !== 'auto') return forced;
  let i = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && isSpace(head[i]!)) i++;
  const c = head[i];
  if (c === 0x7b) return 'ndjson';
  if (c === 0x5b) return 'json';
  return 'csv';
}
