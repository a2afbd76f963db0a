import type { ScheduleRecord } from '../../stores/store.js';
import type { PageContext, PageResult } from '../context.js';
import { html } from '../html.js';
import { formatTime } from '../layout.js';

// Recurring schedules (issue 16), read-only: what each enqueues, when it last ticked, whether
// it is declared by job classes (static) or saved by the application (dynamic). There is no
// "run now": the store seam has no method that runs a schedule's job outside its ticks.

export function schedulesPage(ctx: PageContext, schedules: ScheduleRecord[]): PageResult {
  const body = html`<h2>Schedules <small>${schedules.length}</small></h2>
${
  schedules.length === 0
    ? html`<p class="empty">No schedules: declare one with <code>static schedule</code> on a job class, or save one with <code>schedule()</code>.</p>`
    : html`<table id="schedules">
<thead><tr><th>Key</th><th>Cron</th><th>Time zone</th><th>Kind</th><th>Declared by</th><th>Job</th><th>Misfire</th><th>Last tick</th><th>Last job</th></tr></thead>
<tbody>
${schedules.map(
  (s) => html`<tr data-schedule="${s.key}">
<td>${s.key}</td><td><code>${s.cron}</code></td><td>${s.tz}</td><td class="kind">${s.kind}</td>
<td>${s.kind === 'static' ? (s.declaredBy.length ? s.declaredBy.join(', ') : html`<span class="warn">no runtime (not applied)</span>`) : '-'}</td>
<td>${s.job.handler} <small>on ${s.job.queue}</small></td><td>${s.misfire}</td>
<td>${s.lastTickAtMs === null ? 'never' : formatTime(new Date(s.lastTickAtMs))}</td>
<td>${s.lastJobId === null ? '-' : html`<a href="${ctx.base}/jobs/${s.lastJobId}">${s.lastJobId}</a>`}</td></tr>`,
)}
</tbody></table>`
}`;
  return { status: 200, title: 'Schedules', body };
}
