import type { JobRecord, JobStore } from '../../stores/store.js';
import type { PageContext, PageResult } from '../context.js';
import { html } from '../html.js';
import { actionForm, formatTime, notice } from '../layout.js';

// One job in full: fields, payload pretty-printed, the whole exception with its stack.

export function parseJobId(text: string): number | null {
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) && n >= 1 ? n : null;
}

function prettyPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload; // shown as stored
  }
}

export async function jobPage(ctx: PageContext, store: JobStore, id: number): Promise<PageResult> {
  const job = await store.admin.getJob({ id });
  if (!job) {
    return {
      status: 404,
      title: `Job ${id}`,
      body: html`<h2>Job ${id} does not exist</h2><p>Completed jobs are deleted (unless the runtime keeps them with --keep-completed), and forgotten ones too.</p>`,
    };
  }
  const retried = ctx.query.get('done') === 'retried';
  const n = Number(ctx.query.get('n') ?? 0);
  return {
    status: 200,
    title: `Job ${id}`,
    body: html`${retried ? (n > 0 ? notice('Put back to run.') : notice('Nothing retried: the job was not failed any more (retried or forgotten meanwhile?).', 'warn')) : ''}
<h2>Job ${job.id} <span class="status status-${job.status}">${job.status}</span></h2>
${job.status === 'failed' && !ctx.readOnly ? html`<p>${actionForm(ctx, '/failed/retry', 'Retry', { ids: String(job.id), from: 'job' })} ${actionForm(ctx, '/failed/forget', 'Forget', { ids: String(job.id), from: 'job' }, 'danger')}</p>` : ''}
${fields(job)}
<h3>Payload</h3>
<pre id="payload">${prettyPayload(job.payload)}</pre>
<h3>Exception</h3>
<pre id="exception">${job.exception ?? '(none)'}</pre>`,
  };
}

function fields(j: JobRecord) {
  const rows: Array<[string, string]> = [
    ['Queue', j.queue],
    ['Handler', j.handler],
    ['Attempts', `${j.attempts} of ${j.maxAttempts}`],
    ['Interruptions', String(j.interruptions)],
    ['Created', formatTime(j.createdAt)],
    ['Scheduled', formatTime(j.scheduledAt)],
    ['Failed at', formatTime(j.failedAt)],
    ['Claimed by', j.owner ?? '-'],
    ['Priority', String(j.priority)],
    ['Unique key', j.uniqueKey ?? '-'],
    ['Concurrency key', j.concurrencyKey ?? '-'],
    ['Rate key', j.rateKey ?? '-'],
  ];
  return html`<dl class="fields">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}
