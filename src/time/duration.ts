const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "90s", "5m", "2d", "1.5h" → seconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNIT_SECONDS[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * unit);
}

/** seconds → the largest exact "Nd"/"Nh"/"Nm"/"Ns" form, for messages and reports. */
export function formatDuration(seconds: number): string {
  for (const [unit, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds !== 0 && seconds % n === 0) return `${seconds / n}${unit}`;
  }
  return `${seconds}s`;
}
