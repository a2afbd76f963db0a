import { CSRF_FIELD } from './csrf.js';
import type { PageContext } from './context.js';
import { type Html, html } from './html.js';

// The page shell and the small pieces every page uses. Assets load from the dashboard's own
// base path; no inline script or style (the Content-Security-Policy forbids both).

export function layout(ctx: { base: string; readOnly: boolean; storeUrl: string | null }, title: string, body: Html): string {
  const b = ctx.base;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}'>
<title>${title} · jobs-runtime</title>
<link rel="stylesheet" href="${b}/assets/dashboard.css">
<script src="${b}/assets/htmx.min.js" defer></script>
<script src="${b}/assets/dashboard.js" defer></script>
</head>
<body>
<header>
<strong>jobs-runtime</strong>
<nav><a href="${b}/">Overview</a> <a href="${b}/failed">Failed jobs</a> <a href="${b}/schedules">Schedules</a></nav>
<span class="store">${ctx.storeUrl ?? ''}</span>
${ctx.readOnly ? html`<span class="badge">read-only</span>` : ''}
</header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

/** A POST form with the CSRF token; `fields` become hidden inputs. */
export function actionForm(ctx: PageContext, action: string, label: string, fields: Record<string, string> = {}, cls = ''): Html {
  return html`<form method="post" action="${ctx.base}${action}" class="inline">
<input type="hidden" name="${CSRF_FIELD}" value="${ctx.csrfToken}">
${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
<button type="submit" class="${cls}">${label}</button>
</form>`;
}

export function formatTime(d: Date | null): string {
  return d ? `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC` : '-';
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

export function notice(text: string | null, kind: 'ok' | 'warn' = 'ok'): Html {
  return text ? html`<p class="notice ${kind}" role="status">${text}</p>` : html``;
}
