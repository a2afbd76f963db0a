import type { StatusSnapshot } from '../../operations/status-snapshot.js';
import type { ThroughputMinute } from '../../stores/store.js';
import { throughputCharts } from '../chart.js';
import type { PageContext, PageResult } from '../context.js';
import { type Html, html } from '../html.js';
import { actionForm, formatMs, notice } from '../layout.js';

// The overview: runtimes and queues, as `jobs-runtime status` shows them. The #live block is
// what the browser refreshes (dashboard.js asks htmx for /fragments/overview while the tab is
// visible; the queue page's #live block likewise).

export function overviewPage(ctx: PageContext, s: StatusSnapshot, throughput: ThroughputMinute[]): PageResult {
  return { status: 200, title: 'Overview', body: html`${actionNotice(ctx)}${overviewFragment(ctx, s, throughput)}` };
}

export function overviewFragment(ctx: PageContext, s: StatusSnapshot, throughput: ThroughputMinute[]): Html {
  const dead = s.runtimes.filter((r) => r.dead).length;
  return html`<div id="live" hx-get="${ctx.base}/fragments/overview" hx-trigger="jr-refresh" hx-swap="outerHTML" data-read-at="${s.at}">
<h2>Runtimes <small>${s.runtimes.length - dead} live${dead ? `, ${dead} dead (silent > ${formatMs(s.deadAfterMs)})` : ''}</small></h2>
${s.runtimes.length === 0 ? html`<p class="empty">No runtime is registered: start one with <code>jobs-runtime start</code>.</p>` : runtimesTable(s)}
<h2>Throughput <small>all queues</small></h2>
${throughputCharts(throughput, Date.parse(s.at))}
<h2>Queues</h2>
${s.queues.length === 0 ? html`<p class="empty">No queue has jobs, is paused, or ran jobs in the last hour.</p>` : queuesTable(ctx, s)}
<p class="read-at">Read at ${s.at.replace('T', ' ').slice(0, 19)} UTC${ctx.readOnly ? ' · read-only' : ''}</p>
</div>`;
}

function runtimesTable(s: StatusSnapshot): Html {
  return html`<table id="runtimes">
<thead><tr><th>Host</th><th>PID</th><th>Queues</th><th>Busy / slots</th><th>Threads</th><th>CPU</th><th>RSS</th><th>Uptime</th><th>Done</th><th>Failed</th><th>Heartbeat</th><th>State</th></tr></thead>
<tbody>
${s.runtimes.map(
  (r) => html`<tr data-runtime="${r.id}" data-pid="${r.pid}" class="${r.dead ? 'dead' : 'live'}">
<td>${r.host}</td><td class="pid">${r.pid}</td><td>${r.queues ? r.queues.join(', ') : 'all'}</td>
<td class="busy">${r.busyThreads} / ${r.slots}</td><td>${r.threads}</td><td>${r.cpuPercent.toFixed(1)}%</td><td>${(r.rssBytes / 1048576).toFixed(0)} MiB</td>
<td>${formatMs(r.uptimeMs)}</td><td>${r.jobsDone}</td><td>${r.jobsFailed}</td><td>${formatMs(r.lastHeartbeatMsAgo)} ago</td>
<td class="state">${r.dead ? 'dead' : 'live'}</td></tr>`,
)}
</tbody></table>`;
}

function queuesTable(ctx: PageContext, s: StatusSnapshot): Html {
  return html`<table id="queues">
<thead><tr><th>Queue</th><th>Waiting</th><th>Delayed</th><th title="Held back by a concurrency limit (of waiting) or a rate limit (of delayed)">Limited</th><th>Processing</th><th>Failed</th><th>State</th><th>Done / failed, last min</th><th>Done / failed, last hour</th>${ctx.readOnly ? '' : html`<th></th>`}</tr></thead>
<tbody>
${s.queues.map(
  (q) => html`<tr data-queue="${q.queue}">
<td><a href="${ctx.base}/queues/${encodeURIComponent(q.queue)}">${q.queue}</a></td><td class="waiting">${q.waiting}</td><td class="delayed">${q.delayed}</td><td class="limited" title="${q.concurrencyLimited} by concurrency, ${q.rateLimited} by rate">${q.concurrencyLimited + q.rateLimited}</td><td class="processing">${q.processing}</td>
<td class="failed">${q.failed > 0 ? html`<a href="${ctx.base}/failed?queue=${encodeURIComponent(q.queue)}">${q.failed}</a>` : q.failed}</td>
<td class="state">${q.paused ? 'paused' : 'running'}</td>
<td>${q.completedLastMinute} / ${q.failedLastMinute}</td><td>${q.completedLastHour} / ${q.failedLastHour}</td>
${ctx.readOnly ? '' : html`<td>${actionForm(ctx, `/queues/${encodeURIComponent(q.queue)}/${q.paused ? 'resume' : 'pause'}`, q.paused ? 'Resume' : 'Pause')}</td>`}
</tr>`,
)}
</tbody></table>`;
}

function actionNotice(ctx: PageContext): Html {
  const done = ctx.query.get('done');
  const queue = ctx.query.get('queue') ?? '';
  const changed = ctx.query.get('changed') === '1';
  if (done === 'paused')
    return notice(changed ? `Queue ${queue} paused: runtimes claim none of its jobs from their next poll on.` : `Queue ${queue} was already paused.`);
  if (done === 'resumed') return notice(changed ? `Queue ${queue} resumed.` : `Queue ${queue} was not paused.`);
  return notice(null);
}
