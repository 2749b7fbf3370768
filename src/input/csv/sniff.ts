export const DELIMITERS = [',', ';', '\t', '|'] as const;

/** The delimiter that splits the header line into the most fields, ignoring quoted text. */
export function sniffDelimiter(headerLine: string): string {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const [d, n] of counts) if (n > bestCount) [best, bestCount] = [d, n];
  return best;
}
