import { InvalidInputError } from '../../errors.js';
import type { StatusSnapshot } from '../../operations/status-snapshot.js';
import { JOB_LIST_STATES, type JobListPage, type JobListState, type JobRecord, type ThroughputMinute } from '../../stores/store.js';
import { assertHandlerName, assertQueueName } from '../../values/names.js';
import { throughputCharts } from '../chart.js';
import type { PageContext, PageResult } from '../context.js';
import { type Html, html } from '../html.js';
import { actionForm, formatTime } from '../layout.js';
import { parseJobId } from './job.js';

// One queue: its jobs by state, a page at a time (keyset: "next" carries the store's cursor,
// so a deep page costs what the first does), searched by job id or handler; its counts (from
// the cached status read) and its throughput chart, refreshed while the tab is visible.

export const QUEUE_PAGE_SIZE = 50;

export interface QueueQuery {
  queue: string;
  state: JobListState;
  handler?: string;
  id?: number;
  after: string | null;
}

/** The queue page's query; a malformed one is a 400. */
export function queueQuery(queue: string, q: URLSearchParams): QueueQuery {
  assertQueueName(queue);
  const state = (q.get('state') || 'waiting') as JobListState;
  if (!JOB_LIST_STATES.includes(state)) throw new InvalidInputError(`Unknown state '${state}': one of ${JOB_LIST_STATES.join(', ')}`);
  const handler = q.get('handler')?.trim() || undefined;
  if (handler !== undefined) assertHandlerName(handler);
  const idText = q.get('id')?.trim() || undefined;
  const id = idText === undefined ? undefined : parseJobId(idText);
  if (id === null) throw new InvalidInputError(`Invalid job id '${idText}': ids are whole numbers from 1 up`);
  return { queue, state, after: q.get('after') || null, ...(handler ? { handler } : {}), ...(id ? { id } : {}) };
}

function href(ctx: PageContext, q: QueueQuery, changes: Partial<QueueQuery>): string {
  const m = { ...q, ...changes };
  const params = new URLSearchParams({ state: m.state });
  if (m.handler) params.set('handler', m.handler);
  if (m.id) params.set('id', String(m.id));
  if (m.after) params.set('after', m.after);
  return `${ctx.base}/queues/${encodeURIComponent(m.queue)}?${params}`;
}

export function queuePage(ctx: PageContext, q: QueueQuery, list: JobListPage, status: StatusSnapshot, throughput: ThroughputMinute[]): PageResult {
  const searched = q.handler !== undefined || q.id !== undefined;
  // The head (counts, chart) and the jobs are refreshed while the tab is visible (dashboard.js);
  // the search form between them is not, so what is typed in it stays.
  const body = html`${queueHead(ctx, q, status, throughput, false)}
<form method="get" action="${ctx.base}/queues/${encodeURIComponent(q.queue)}" class="filter" id="search">
<input type="hidden" name="state" value="${q.state}">
<label>Job id <input name="id" value="${q.id ?? ''}" inputmode="numeric" size="10"></label>
<label>Handler <input name="handler" value="${q.handler ?? ''}"></label>
<button type="submit">Search</button>${searched ? html` <a href="${href(ctx, q, { handler: undefined, id: undefined, after: null })}">Clear</a>` : ''}
</form>
${queueJobs(ctx, q, list, status)}`;
  return { status: 200, title: `Queue ${q.queue}`, body };
}

/** What a refresh of the queue page swaps: its jobs, and its head out of band (one request). */
export function queueFragment(ctx: PageContext, q: QueueQuery, list: JobListPage, status: StatusSnapshot, throughput: ThroughputMinute[]): Html {
  return html`${queueJobs(ctx, q, list, status)}${queueHead(ctx, q, status, throughput, true)}`;
}

function queueHead(ctx: PageContext, q: QueueQuery, status: StatusSnapshot, throughput: ThroughputMinute[], oob: boolean): Html {
  const counts = status.queues.find((v) => v.queue === q.queue);
  const paused = counts?.paused ?? false;
  const count: Record<JobListState, string> = {
    waiting: String(counts?.waiting ?? 0),
    delayed: String(counts?.delayed ?? 0),
    processing: String(counts?.processing ?? 0),
    failed: String(counts?.failed ?? 0),
    completed: '',
  };
  return html`<div id="queue-head"${oob ? html` hx-swap-oob="true"` : ''}><h2>Queue ${q.queue} <small>${paused ? 'paused' : 'running'}</small>
${ctx.readOnly ? '' : actionForm(ctx, `/queues/${encodeURIComponent(q.queue)}/${paused ? 'resume' : 'pause'}`, paused ? 'Resume' : 'Pause')}</h2>
${throughputCharts(throughput, Date.parse(status.at))}
<nav class="states">${JOB_LIST_STATES.map(
    (s) =>
      html`<a href="${href(ctx, q, { state: s, after: null })}" class="${s === q.state ? 'current' : ''}" data-state="${s}">${s}${count[s] ? html` <small>${count[s]}</small>` : ''}</a>`,
  )}</nav></div>`;
}

function queueJobs(ctx: PageContext, q: QueueQuery, list: JobListPage, status: StatusSnapshot): Html {
  const fragment = href(ctx, q, {}).replace(`${ctx.base}/queues/`, `${ctx.base}/fragments/queues/`);
  return html`<div id="live" hx-get="${fragment}" hx-trigger="jr-refresh" hx-swap="outerHTML" data-read-at="${status.at}">
${list.jobs.length === 0 ? html`<p class="empty">${emptyText(ctx, q)}</p>` : jobsTable(ctx, q.state, list.jobs)}
<p class="pager">${q.after ? html`<a href="${href(ctx, q, { after: null })}" id="first-page">First page</a>` : ''}${
    list.next ? html`<a href="${href(ctx, q, { after: list.next })}" id="next-page" rel="next">Next page</a>` : ''
  }${list.next && q.handler && list.jobs.length < QUEUE_PAGE_SIZE ? html` <small>(a search by handler looks at 2,000 jobs per page)</small>` : ''}</p>
</div>`;
}

function emptyText(ctx: PageContext, q: QueueQuery): Html {
  if (q.id !== undefined) return html`No job ${q.id} is ${q.state} in this queue. <a href="${ctx.base}/jobs/${q.id}">Open job ${q.id}</a> to see where it is.`;
  return html`No ${q.state} jobs${q.handler ? ` of handler ${q.handler}` : ''}${q.after ? ' on this page' : ''}.${q.state === 'completed' ? ' Completed jobs are deleted unless runtimes keep them (--keep-completed).' : ''}`;
}

function keys(j: JobRecord): string {
  const parts = [j.uniqueKey && `unique ${j.uniqueKey}`, j.concurrencyKey && `concurrency ${j.concurrencyKey}`, j.rateKey && `rate ${j.rateKey}`];
  return parts.filter(Boolean).join(' · ') || '-';
}

function jobsTable(ctx: PageContext, state: JobListState, jobs: JobRecord[]): Html {
  const when = state === 'failed' ? 'Failed at' : state === 'processing' ? 'Due at / owner' : 'Due at';
  return html`<table id="jobs" data-state="${state}">
<thead><tr><th>ID</th><th>Handler</th><th>Priority</th><th>Attempts</th><th>${when}</th><th>Keys</th>${state === 'failed' ? html`<th>Error</th>` : ''}</tr></thead>
<tbody>
${jobs.map(
  (j) => html`<tr data-job="${j.id}"${j.status === 'blocked' ? html` class="blocked"` : ''}>
<td><a href="${ctx.base}/jobs/${j.id}">${j.id}</a>${j.status === 'blocked' ? html` <span class="status">blocked</span>` : ''}</td><td>${j.handler}</td><td class="priority">${j.priority}</td>
<td>${j.attempts}/${j.maxAttempts}</td><td>${state === 'failed' ? formatTime(j.failedAt) : formatTime(j.scheduledAt)}${state === 'processing' && j.owner ? html`<br><small>${j.owner}</small>` : ''}</td>
<td class="keys">${keys(j)}</td>${state === 'failed' ? html`<td class="error">${(j.exception ?? '').split('\n')[0]!.slice(0, 160)}</td>` : ''}</tr>`,
)}
</tbody></table>`;
}
