import type { ThroughputMinute } from '../stores/store.js';
import { type Html, html } from './html.js';

// The throughput chart: jobs finished per bucket of minutes, completed and failed stacked, as
// inline SVG drawn here on the server (no script: the Content-Security-Policy allows none
// inline, and the chart needs none). Colours come from classes in dashboard.css.

export interface ChartWindow {
  id: string;
  label: string;
  minutes: number;
  /** Minutes per bar. */
  bucket: number;
}

export const WINDOWS: ChartWindow[] = [
  { id: '1h', label: 'last hour, per minute', minutes: 60, bucket: 1 },
  { id: '48h', label: 'last 48 hours, per 30 minutes', minutes: 48 * 60, bucket: 30 },
];

const W = 600;
const H = 90;

/** Buckets ending with the current minute: every bar, empty ones included, oldest first. */
export function bucketize(rows: ThroughputMinute[], win: ChartWindow, nowMs: number): Array<{ startMs: number; completed: number; failed: number }> {
  const n = Math.ceil(win.minutes / win.bucket);
  const lastMinute = Math.floor(nowMs / 60_000);
  const firstMinute = lastMinute - n * win.bucket + 1;
  const bars = Array.from({ length: n }, (_, i) => ({ startMs: (firstMinute + i * win.bucket) * 60_000, completed: 0, failed: 0 }));
  for (const r of rows) {
    const k = Math.floor((r.minuteMs / 60_000 - firstMinute) / win.bucket);
    const bar = bars[k];
    if (!bar) continue;
    bar.completed += r.completed;
    bar.failed += r.failed;
  }
  return bars;
}

export function throughputChart(rows: ThroughputMinute[], win: ChartWindow, nowMs: number): Html {
  const bars = bucketize(rows, win, nowMs);
  const max = Math.max(1, ...bars.map((b) => b.completed + b.failed));
  const total = bars.reduce((s, b) => s + b.completed, 0);
  const failed = bars.reduce((s, b) => s + b.failed, 0);
  const bw = W / bars.length;
  const rects = bars.map((b, i) => {
    const x = (i * bw).toFixed(1);
    const w = Math.max(1, bw - 1).toFixed(1);
    const hc = (b.completed / max) * H;
    const hf = (b.failed / max) * H;
    const at = new Date(b.startMs).toISOString().slice(11, 16);
    return html`<g><title>${at} UTC: ${b.completed} completed, ${b.failed} failed</title>${
      hc > 0 ? html`<rect class="completed" x="${x}" y="${(H - hc).toFixed(1)}" width="${w}" height="${hc.toFixed(1)}"></rect>` : ''
    }${hf > 0 ? html`<rect class="failed" x="${x}" y="${(H - hc - hf).toFixed(1)}" width="${w}" height="${hf.toFixed(1)}"></rect>` : ''}</g>`;
  });
  return html`<figure class="chart" data-window="${win.id}">
<figcaption>${win.label}: <strong>${total}</strong> completed, <strong>${failed}</strong> failed (peak ${max}/${win.bucket === 1 ? 'min' : `${win.bucket} min`})</figcaption>
<svg viewBox="0 0 ${W} ${H + 1}" width="${W}" height="${H + 1}" role="img" aria-label="${win.label}: ${total} completed, ${failed} failed">
<line class="axis" x1="0" y1="${H + 0.5}" x2="${W}" y2="${H + 0.5}"></line>
${rects}
</svg>
</figure>`;
}

/** Both windows side by side, from one read of the last 48 hours. */
export function throughputCharts(rows: ThroughputMinute[], nowMs: number): Html {
  return html`<div class="charts">${WINDOWS.map((w) =>
    throughputChart(
      rows.filter((r) => r.minuteMs > nowMs - w.minutes * 60_000 - 60_000),
      w,
      nowMs,
    ),
  )}</div>`;
}
