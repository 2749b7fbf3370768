import { esc } from './escape.js';
import { countTicks, newerNote, olderNote } from './histogram.js';
import type { HistogramBucket, HistogramNewer, HistogramOlder } from './model.js';

export interface Marker {
  at: string;
  label: string;
  cls: string;
}

const W = 900;
const H = 280;
const M = { top: 24, right: 16, bottom: 56, left: 64 };

export interface HistogramView {
  unit: 'day' | 'month';
  buckets: readonly HistogramBucket[];
  older?: HistogramOlder | null | undefined;
  newer?: HistogramNewer | null | undefined;
}

interface Slot {
  key: string;
  label: string;
  input: number;
  output: number;
  clipped: boolean;
}

/**
 * Grouped bars (input vs output per bucket) with vertical markers; plain inline SVG, no script,
 * so it opens offline and prints. Events far outside the rest stand in an "older" first bar (and
 * a "newer" last bar), each said in words at the top of the chart; the count axis has whole-number ticks.
 */
export function histogramSvg(h: HistogramView, markers: readonly Marker[]): string {
  const { unit, buckets } = h;
  const slots: Slot[] = [
    ...(h.older ? [{ key: 'older', label: 'older', input: h.older.input, output: h.older.output, clipped: true }] : []),
    ...buckets.map((b) => ({ key: b.start, label: b.start, input: b.input, output: b.output, clipped: false })),
    ...(h.newer ? [{ key: 'newer', label: 'newer', input: h.newer.input, output: h.newer.output, clipped: true }] : []),
  ];
  const notes = [h.older ? olderNote(h.older) : '', h.newer ? newerNote(h.newer) : ''].filter((x) => x !== '');
  const top = notes.length === 0 ? M.top : M.top + 12 * notes.length;
  const n = Math.max(1, slots.length);
  const plotW = W - M.left - M.right;
  const plotH = H - top - M.bottom;
  const ticks = countTicks(Math.max(0, ...slots.map((b) => Math.max(b.input, b.output))));
  const max = ticks[ticks.length - 1]!;
  const bw = plotW / n;
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="hist-title" class="histogram">`);
  parts.push(`<title id="hist-title">Events per ${unit}: input times and output times</title>`);
  for (const [i, t] of notes.entries()) parts.push(`<text class="clip-note" x="${M.left}" y="${14 + 12 * i}">${esc(t)}</text>`);
  for (const v of ticks) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(`<text class="axis" x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(v.toLocaleString('en-US'))}</text>`);
  }
  const labelEvery = Math.ceil(n / 12);
  slots.forEach((b, i) => {
    const x = M.left + i * bw;
    const half = Math.max(1, bw / 2 - 1);
    const cls = b.clipped ? ' clipped' : '';
    const tip = b.clipped ? (b.key === 'older' ? notes[0]! : notes[notes.length - 1]!) : b.label;
    parts.push(
      `<rect class="bar input${cls}" data-bucket="${esc(b.key)}" x="${x.toFixed(2)}" y="${y(b.input).toFixed(2)}" width="${half.toFixed(2)}" height="${(top + plotH - y(b.input)).toFixed(2)}"><title>${esc(tip)} — input: ${b.input}</title></rect>`,
    );
    parts.push(
      `<rect class="bar output${cls}" data-bucket="${esc(b.key)}" x="${(x + half).toFixed(2)}" y="${y(b.output).toFixed(2)}" width="${half.toFixed(2)}" height="${(top + plotH - y(b.output)).toFixed(2)}"><title>${esc(tip)} — written: ${b.output}</title></rect>`,
    );
    if (b.clipped) {
      // a break in the axis between the clipped bar and the regular ones
      const bx = b.key === 'older' ? x + bw : x;
      parts.push(`<line class="axis-break" x1="${bx.toFixed(2)}" x2="${bx.toFixed(2)}" y1="${top}" y2="${top + plotH + 6}"/>`);
    }
    if (b.clipped || i % labelEvery === 0) {
      parts.push(`<text class="axis${cls}" x="${(x + bw / 2).toFixed(2)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(b.label)}</text>`);
    }
  });
  const keys = slots.map((b) => b.key);
  markers.forEach((m, j) => {
    const k = unit === 'day' ? m.at.slice(0, 10) : m.at.slice(0, 7);
    const i = keys.indexOf(k);
    if (i < 0) return;
    const x = M.left + i * bw + bw / 2;
    parts.push(`<line class="marker ${esc(m.cls)}" data-marker="${esc(m.cls)}" x1="${x.toFixed(2)}" x2="${x.toFixed(2)}" y1="${top}" y2="${top + plotH}"/>`);
    // labels near the right edge grow leftwards so they stay inside the chart
    const right = x > M.left + plotW * 0.7;
    parts.push(
      `<text class="marker-label ${esc(m.cls)}" x="${(right ? x - 3 : x + 3).toFixed(2)}" y="${top + 10 + j * 12}" text-anchor="${right ? 'end' : 'start'}">${esc(m.label)}</text>`,
    );
  });
  parts.push(`<line class="axis-line" x1="${M.left}" x2="${W - M.right}" y1="${top + plotH}" y2="${top + plotH}"/>`);
  const ly = H - 14;
  parts.push(`<rect class="bar input" x="${M.left}" y="${ly - 9}" width="12" height="10"/><text class="axis" x="${M.left + 16}" y="${ly}">input time</text>`);
  parts.push(
    `<rect class="bar output" x="${M.left + 110}" y="${ly - 9}" width="12" height="10"/><text class="axis" x="${M.left + 126}" y="${ly}">time written</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}
