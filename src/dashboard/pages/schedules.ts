import type { ScheduleRecord } from '../../stores/store.js';
import type { PageContext, PageResult } from '../context.js';
import { html } from '../html.js';
import { actionForm, formatTime, notice } from '../layout.js';

// Recurring schedules (issue 16): what each enqueues, when it last ticked, whether it is declared
// by job classes (static) or saved by the application (dynamic). "Run now" (a POST with the CSRF
// token, handler.ts) enqueues one job of the schedule now, as `jobs-runtime schedules run` does:
// not a tick, so its ticks go on as before. A read-only dashboard shows no button.

export function schedulesPage(ctx: PageContext, schedules: ScheduleRecord[]): PageResult {
  const body = html`<h2>Schedules <small>${schedules.length}</small></h2>
${ranNotice(ctx)}
${
  schedules.length === 0
    ? html`<p class="empty">No schedules: declare one with <code>static schedule</code> on a job class, or save one with <code>schedule()</code>.</p>`
    : html`<table id="schedules">
<thead><tr><th>Key</th><th>Cron</th><th>Time zone</th><th>Kind</th><th>Declared by</th><th>Job</th><th>Misfire</th><th>Last tick</th><th>Last job</th>${ctx.readOnly ? '' : html`<th></th>`}</tr></thead>
<tbody>
${schedules.map(
  (s) => html`<tr data-schedule="${s.key}">
<td>${s.key}</td><td><code>${s.cron}</code></td><td>${s.tz}</td><td class="kind">${s.kind}</td>
<td>${s.kind === 'static' ? (s.declaredBy.length ? s.declaredBy.join(', ') : html`<span class="warn">no runtime (not applied)</span>`) : '-'}</td>
<td>${s.job.handler} <small>on ${s.job.queue}</small></td><td>${s.misfire}</td>
<td>${s.lastTickAtMs === null ? 'never' : formatTime(new Date(s.lastTickAtMs))}</td>
<td>${s.lastJobId === null ? '-' : html`<a href="${ctx.base}/jobs/${s.lastJobId}">${s.lastJobId}</a>`}</td>
${ctx.readOnly ? '' : html`<td>${actionForm(ctx, `/schedules/${encodeURIComponent(s.key)}/run`, 'Run now', {}, 'run-now')}</td>`}</tr>`,
)}
</tbody></table>`
}`;
  return { status: 200, title: 'Schedules', body };
}

/** After "run now": which job it enqueued (a link), or the standing job its unique key kept. */
function ranNotice(ctx: PageContext) {
  if (ctx.query.get('done') !== 'run') return notice(null);
  const id = ctx.query.get('id') ?? '';
  const key = ctx.query.get('key') ?? '';
  const link = html`<a href="${ctx.base}/jobs/${encodeURIComponent(id)}">job ${id}</a>`;
  return ctx.query.get('duplicate') === '1'
    ? html`<p class="notice warn" role="status">Schedule ${key}: nothing new enqueued, ${link} holds its unique key.</p>`
    : html`<p class="notice ok" role="status">Schedule ${key}: ${link} enqueued, due now.</p>`;
}
