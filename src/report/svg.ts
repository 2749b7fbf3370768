import { esc } from './escape.js';
import type { HistogramBucket } from './model.js';

export interface Marker {
  at: string;
  label: string;
  cls: string;
}

const W = 900;
const H = 280;
const M = { top: 24, right: 16, bottom: 56, left: 64 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Grouped bars (input vs output per bucket) with vertical markers; plain inline SVG, no script,
 * so it opens offline and prints.
 */
export function histogramSvg(buckets: readonly HistogramBucket[], markers: readonly Marker[], unit: 'day' | 'month'): string {
  const n = Math.max(1, buckets.length);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const max = niceMax(Math.max(1, ...buckets.map((b) => Math.max(b.input, b.output))));
  const bw = plotW / n;
  const y = (v: number) => M.top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="hist-title" class="histogram">`);
  parts.push(`<title id="hist-title">Events per ${unit}: input times and output times</title>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(`<text class="axis" x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(v.toLocaleString('en-US'))}</text>`);
  }
  const labelEvery = Math.ceil(n / 12);
  buckets.forEach((b, i) => {
    const x = M.left + i * bw;
    const half = Math.max(1, bw / 2 - 1);
    parts.push(
      `<rect class="bar input" x="${x.toFixed(2)}" y="${y(b.input).toFixed(2)}" width="${half.toFixed(2)}" height="${(M.top + plotH - y(b.input)).toFixed(2)}"><title>${esc(b.start)} input: ${b.input}</title></rect>`,
    );
    parts.push(
      `<rect class="bar output" x="${(x + half).toFixed(2)}" y="${y(b.output).toFixed(2)}" width="${half.toFixed(2)}" height="${(M.top + plotH - y(b.output)).toFixed(2)}"><title>${esc(b.start)} output: ${b.output}</title></rect>`,
    );
    if (i % labelEvery === 0) {
      parts.push(`<text class="axis" x="${(x + bw / 2).toFixed(2)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(b.start)}</text>`);
    }
  });
  const keys = buckets.map((b) => b.start);
  markers.forEach((m, j) => {
    const k = unit === 'day' ? m.at.slice(0, 10) : m.at.slice(0, 7);
    const i = keys.indexOf(k);
    if (i < 0) return;
    const x = M.left + i * bw + bw / 2;
    parts.push(
      `<line class="marker ${esc(m.cls)}" data-marker="${esc(m.cls)}" x1="${x.toFixed(2)}" x2="${x.toFixed(2)}" y1="${M.top}" y2="${M.top + plotH}"/>`,
    );
    // labels near the right edge grow leftwards so they stay inside the chart
    const right = x > M.left + plotW * 0.7;
    parts.push(
      `<text class="marker-label ${esc(m.cls)}" x="${(right ? x - 3 : x + 3).toFixed(2)}" y="${M.top + 10 + j * 12}" text-anchor="${right ? 'end' : 'start'}">${esc(m.label)}</text>`,
    );
  });
  parts.push(`<line class="axis-line" x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}"/>`);
  const ly = H - 14;
  parts.push(`<rect class="bar input" x="${M.left}" y="${ly - 9}" width="12" height="10"/><text class="axis" x="${M.left + 16}" y="${ly}">input time</text>`);
  parts.push(
    `<rect class="bar output" x="${M.left + 110}" y="${ly - 9}" width="12" height="10"/><text class="axis" x="${M.left + 126}" y="${ly}">time written</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}
