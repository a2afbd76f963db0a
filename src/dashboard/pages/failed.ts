import { InvalidInputError } from '../../errors.js';
import type { FailedPage, FailedSelection } from '../../stores/store.js';
import { assertHandlerName, assertQueueName } from '../../values/names.js';
import { CSRF_FIELD } from '../csrf.js';
import type { PageContext, PageResult } from '../context.js';
import { type Html, html } from '../html.js';
import { actionForm, formatTime, notice } from '../layout.js';

// Failed jobs, most recent failure first: filter by queue and handler, retry or forget the
// selected ones or every one matching the filter. The list shows at most PAGE_SIZE; the
// actions on "all matching" reach every row (the store works through them in batches).

export const FAILED_PAGE_SIZE = 50;

/** The queue and handler filter of a query or a form; a malformed one is a 400. */
export function failedFilter(params: URLSearchParams): { queue?: string; handler?: string } {
  const queue = params.get('queue') || undefined;
  const handler = params.get('handler') || undefined;
  if (queue !== undefined) assertQueueName(queue);
  if (handler !== undefined) assertHandlerName(handler);
  return { ...(queue ? { queue } : {}), ...(handler ? { handler } : {}) };
}

export async function failedPage(ctx: PageContext, list: (filter: { queue?: string; handler?: string }) => Promise<FailedPage>): Promise<PageResult> {
  const filter = failedFilter(ctx.query);
  const page = await list(filter);
  const b = ctx.base;
  const described = `${filter.queue ? ` on queue ${filter.queue}` : ''}${filter.handler ? ` of handler ${filter.handler}` : ''}`;
  const body = html`${actionNotice(ctx)}
<h2>Failed jobs <small>${page.total}${described}</small></h2>
<form method="get" action="${b}/failed" class="filter">
<label>Queue <input name="queue" value="${filter.queue ?? ''}"></label>
<label>Handler <input name="handler" value="${filter.handler ?? ''}"></label>
<button type="submit">Filter</button>
</form>
${
  page.total === 0
    ? html`<p class="empty">No failed jobs${described}.</p>`
    : html`${ctx.readOnly ? '' : allMatching(ctx, filter, page.total)}
<form method="post" id="selected" action="${b}/failed/retry">
<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrfToken}">
<table id="failed">
<thead><tr>${ctx.readOnly ? '' : html`<th></th>`}<th>ID</th><th>Queue</th><th>Handler</th><th>Attempts</th><th>Failed at</th><th>Error</th></tr></thead>
<tbody>
${page.jobs.map(
  (j) => html`<tr data-job="${j.id}">
${ctx.readOnly ? '' : html`<td><input type="checkbox" name="ids" value="${j.id}" aria-label="select job ${j.id}"></td>`}
<td><a href="${b}/jobs/${j.id}">${j.id}</a></td><td>${j.queue}</td><td>${j.handler}</td><td>${j.attempts}/${j.maxAttempts}</td>
<td>${formatTime(j.failedAt)}</td><td class="error">${(j.exception ?? '').split('\n')[0]!.slice(0, 200)}</td></tr>`,
)}
</tbody></table>
${
  ctx.readOnly
    ? ''
    : html`<p><button type="submit">Retry selected</button> <button type="submit" formaction="${b}/failed/forget" class="danger">Forget selected</button></p>`
}
</form>
${page.jobs.length < page.total ? html`<p>${page.jobs.length} of ${page.total} shown, most recent failure first.</p>` : ''}`
}`;
  return { status: 200, title: 'Failed jobs', body };
}

/** "All matching" opens a confirmation page first (a link: no script needed); only its form acts. */
function allMatching(ctx: PageContext, filter: { queue?: string; handler?: string }, total: number): Html {
  const link = (action: string) => `${ctx.base}/failed/confirm?${new URLSearchParams({ action, ...filter })}`;
  return html`<p class="bulk"><a class="button" id="retry-all" href="${link('retry')}">Retry all ${total} matching…</a> <a class="button danger" id="forget-all" href="${link('forget')}">Forget all ${total} matching…</a></p>`;
}

/** The confirmation of a bulk retry or forget: what it takes (counted now), and the form that does it. */
export async function confirmPage(ctx: PageContext, list: (filter: { queue?: string; handler?: string }) => Promise<FailedPage>): Promise<PageResult> {
  const filter = failedFilter(ctx.query);
  const action = ctx.query.get('action');
  if (action !== 'retry' && action !== 'forget') throw new InvalidInputError(`Unknown bulk action '${action ?? ''}': retry or forget`);
  const { total } = await list(filter);
  const described = `${filter.queue ? ` on queue ${filter.queue}` : ''}${filter.handler ? ` of handler ${filter.handler}` : ''}`;
  const back = `${ctx.base}/failed?${new URLSearchParams(filter)}`;
  const what = action === 'retry' ? 'Retry' : 'Forget';
  const body = html`<h2>${what} all failed jobs${described}?</h2>
<div class="confirm" id="confirm">
<p>${
    action === 'retry'
      ? `This puts all ${total} failed jobs${described} back to run (attempts start again from 0).`
      : `This deletes all ${total} failed jobs${described}, with their payloads and errors. It cannot be undone.`
  } Jobs that fail${described} from now until you confirm are included too.</p>
<p>${ctx.readOnly ? '' : actionForm(ctx, `/failed/${action}`, `${what} all ${total}`, { all: '1', confirmed: '1', ...filter }, action === 'forget' ? 'danger' : '')} <a href="${back}" id="cancel">Cancel</a></p>
</div>`;
  return { status: 200, title: `${what} all failed jobs`, body };
}

function actionNotice(ctx: PageContext): Html {
  const done = ctx.query.get('done');
  const n = Number(ctx.query.get('n') ?? 0);
  const jobs = `${n} job${n === 1 ? '' : 's'}`;
  if (done === 'retried')
    return n > 0
      ? notice(`${jobs} put back to run.`)
      : notice('Nothing retried: no selected job is failed any more (retried or forgotten meanwhile?).', 'warn');
  if (done === 'forgotten') return n > 0 ? notice(`${jobs} forgotten (deleted).`) : notice('Nothing forgotten: no selected job is failed any more.', 'warn');
  return notice(null);
}

/** Which failed jobs a retry or forget form names: its checked ids, or all matching its filter. */
export function selectionOf(form: URLSearchParams): { selection: FailedSelection; filter: { queue?: string; handler?: string }; unconfirmed?: boolean } {
  const filter = failedFilter(form);
  if (form.get('all') === '1') return { selection: filter, filter, unconfirmed: form.get('confirmed') !== '1' };
  const ids = form.getAll('ids').map((v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidInputError(`Invalid job id '${v}': ids are whole numbers from 1 up`);
    return n;
  });
  if (ids.length === 0) throw new InvalidInputError('No job selected: tick one or more jobs, or use the "all matching" buttons');
  return { selection: { ids }, filter };
}
