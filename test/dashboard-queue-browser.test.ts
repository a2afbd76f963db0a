// The dashboard's queue page, throughput chart and bulk confirmation in a real browser
// (headless chromium), standalone (`jobs-runtime dashboard`, a child process) on every store.
// With DASHBOARD_SCREENSHOTS=1 the SQLite run also rewrites docs/dashboard-overview.png and
// docs/dashboard-queue.png (test/dashboard-browser.test.ts takes docs/dashboard-job.png).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { JobId } from '../src/stores/store.ts';
import { type Browser, launchBrowser } from './helpers/browser.ts';
import { killAll, type RunningCli } from './helpers/cli.ts';
import { freePort } from './helpers/free-port.ts';
import { completeJobs, failJobs, jobRow } from './helpers/job-rows.ts';
import { createOpsApp, exited, type OpsApp } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { waitFor } from './helpers/wait.ts';

const SHOTS = process.env.DASHBOARD_SCREENSHOTS === '1';
let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  killAll();
  await browser?.close();
});

async function rowIds(page: Page): Promise<number[]> {
  return (await page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-job'))))) as number[];
}

for (const factory of STORE_FACTORIES) {
  describe(`dashboard queue page in a browser: ${factory.kind}`, () => {
    let app: OpsApp;
    let dash: RunningCli;
    let url: string;
    let page: Page;
    let urgent: JobId;
    let mail: JobId[];
    let failed: JobId[];

    before(async () => {
      app = await createOpsApp(factory, 'dash_queue');
      // 120 waiting jobs on a paused queue (no runtime runs here anyway): one urgent (priority
      // -10), every tenth a mail/Send. Then throughput to chart, and failed jobs to forget.
      await app.store.admin.setQueuePaused({ queue: 'q-list', paused: true });
      const ids = await app.store.producer.enqueue({
        jobs: Array.from({ length: 120 }, (_, i) => jobRow({ queue: 'q-list', handler: i % 10 === 3 ? 'mail/Send' : 'Ok', priority: i === 77 ? -10 : 0 })),
      });
      urgent = ids[77]!;
      mail = ids.filter((_, i) => i % 10 === 3);
      await completeJobs(app.store, 'q-done', 7);
      failed = await failJobs(app.store, 'q-fail', ['Ok', 'Ok', 'Ok', 'Ok']);
      const port = await freePort();
      dash = app.start(['dashboard', '--port', String(port)]);
      url = await waitFor(`the dashboard's banner (stderr: ${dash.stderr().slice(-300)})`, () => / at (http:\S+)/.exec(dash.stdout())?.[1] ?? null, 15_000);
      page = await browser.context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
    });
    after(async () => {
      await page?.close();
      dash?.child.kill('SIGTERM');
      if (dash) await exited(dash, 10_000).catch(() => undefined);
      killAll();
      await app?.cleanup();
    });

    test('the overview charts throughput over 1 h and 48 h, and links to the queue page', async () => {
      await page.goto(url);
      for (const w of ['1h', '48h']) {
        const chart = page.locator(`#live figure.chart[data-window="${w}"]`);
        assert.match((await chart.locator('figcaption').textContent()) ?? '', /7 completed, 4 failed/);
        assert.ok((await chart.locator('svg rect.completed').count()) >= 1, `bars in the ${w} chart`);
        assert.ok((await chart.locator('svg rect.failed').count()) >= 1);
      }
      if (SHOTS && factory.kind === 'sqlite') await page.screenshot({ path: 'docs/dashboard-overview.png', fullPage: true });
      await page.locator('#queues tr[data-queue="q-list"] td a', { hasText: 'q-list' }).click();
      await page.waitForURL(/\/queues\/q-list$/);
      assert.equal(await page.locator('nav.states a.current').getAttribute('data-state'), 'waiting');
      assert.match((await page.locator('figure.chart[data-window="1h"] figcaption').textContent()) ?? '', /0 completed, 0 failed/);
    });

    test('the queue page pages through waiting jobs in claim order, by keyset links', async () => {
      await page.goto(`${url}queues/q-list`);
      const first = await rowIds(page);
      assert.equal(first.length, 50);
      assert.equal(first[0], urgent, 'priority -10 first, as a claim would take it');
      assert.equal(await page.locator(`#jobs tr[data-job="${urgent}"] td.priority`).textContent(), '-10');
      await page.locator('#next-page').click();
      await page.waitForURL(/after=/);
      const second = await rowIds(page);
      await page.locator('#next-page').click();
      await page.waitForURL(/after=/);
      const third = await rowIds(page);
      assert.deepEqual([second.length, third.length], [50, 20]);
      assert.equal(await page.locator('#next-page').count(), 0, 'no next page after the last');
      const all = [...first, ...second, ...third];
      assert.equal(new Set(all).size, 120, 'every job once');
      assert.deepEqual(
        all.slice(1),
        [...all.slice(1)].sort((a, b) => a - b),
        'then by id (same priority and due time)',
      );
      await page.locator('#first-page').click();
      assert.deepEqual(await rowIds(page), first);
      if (SHOTS && factory.kind === 'sqlite') await page.screenshot({ path: 'docs/dashboard-queue.png', fullPage: false });
    });

    test('the queue page refreshes itself while the tab is visible, keeping what is typed in the search', async () => {
      const [first] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'q-live' })] });
      await page.goto(`${url}queues/q-live`);
      assert.deepEqual(await rowIds(page), [first]);
      await page.locator('#search input[name="handler"]').fill('typed/Meanwhile');
      // A more urgent job and a count that changed, no reload: the polled page shows both.
      const [urgentNow] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'q-live', priority: -3 })] });
      await waitFor('the queue page to show the new job first', async () => (await rowIds(page))[0] === urgentNow, 10_000, 100);
      await waitFor(
        'the waiting count to read 2',
        async () => (await page.locator('#queue-head nav.states a[data-state="waiting"] small').textContent()) === '2',
        10_000,
        100,
      );
      assert.equal(await page.locator('#search input[name="handler"]').inputValue(), 'typed/Meanwhile', 'the search form is not swapped');
      assert.equal(await page.locator('#queue-head').count(), 1, 'one head after refreshes');
    });

    test('the queue page searches by handler and by id, and lists other states', async () => {
      await page.goto(`${url}queues/q-list`);
      await page.locator('#search input[name="handler"]').fill('mail/Send');
      await page.locator('#search button').click();
      await page.waitForURL(/handler=mail%2FSend/);
      assert.deepEqual(await rowIds(page), mail);
      await page.locator('#search input[name="handler"]').fill('');
      await page.locator('#search input[name="id"]').fill(String(mail[2]));
      await page.locator('#search button').click();
      await page.waitForURL(/id=/);
      assert.deepEqual(await rowIds(page), [mail[2]]);
      await page.goto(`${url}queues/q-fail?state=failed`);
      assert.deepEqual(await rowIds(page), failed);
      await page.goto(`${url}queues/q-list?state=bogus`);
      assert.match((await page.locator('.notice.error').textContent()) ?? '', /Unknown state 'bogus'/);
      const bad = await page.goto(`${url}queues/q-list?after=not-a-cursor`);
      assert.equal(bad?.status(), 400);
    });

    test('"forget all matching" asks first: nothing changes until it is confirmed', async () => {
      await page.goto(`${url}failed?queue=q-fail`);
      await page.locator('#forget-all').click();
      await page.waitForURL(/\/failed\/confirm\?action=forget/);
      assert.match((await page.locator('#confirm').textContent()) ?? '', /deletes all 4 failed jobs on queue q-fail/);
      assert.equal((await app.store.admin.listFailed({ queue: 'q-fail', limit: 10 })).total, 4, 'not yet');
      await page.locator('#cancel').click();
      await page.waitForURL(/\/failed\?queue=q-fail$/);
      assert.equal((await app.store.admin.listFailed({ queue: 'q-fail', limit: 10 })).total, 4, 'cancelled');
      // A form posting "all" without the confirmation (an old tab, a script) is sent to it, and acts on nothing.
      const status = (await page.evaluate(
        `(() => { const t = document.querySelector('input[name="_csrf"]'); return fetch('failed/forget', { method: 'POST', redirect: 'manual',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '_csrf=' + encodeURIComponent(t ? t.value : '') + '&all=1&queue=q-fail' }).then((r) => r.status); })()`,
      )) as number;
      assert.ok(status === 303 || status === 0, `redirected (status ${status})`);
      assert.equal((await app.store.admin.listFailed({ queue: 'q-fail', limit: 10 })).total, 4, 'unconfirmed: nothing forgotten');
      await page.locator('#forget-all').click();
      await page.waitForURL(/\/failed\/confirm/);
      await page.locator('#confirm button', { hasText: 'Forget all 4' }).click();
      await page.waitForURL(/done=forgotten/);
      assert.match((await page.locator('.notice').textContent()) ?? '', /4 jobs forgotten/);
      assert.equal((await app.store.admin.listFailed({ queue: 'q-fail', limit: 10 })).total, 0);
    });

    test('the schedules page lists schedules; "run now" enqueues one job (a CSRF-checked POST), not a tick', async () => {
      await app.store.producer.saveSchedule({
        schedule: { key: 'nightly-report', cron: '0 3 * * *', tz: 'Europe/Paris', misfire: 'skip', job: jobRow({ queue: 'reports', handler: 'Report' }) },
      });
      await page.goto(`${url}schedules`);
      const row = page.locator('#schedules tr[data-schedule="nightly-report"]');
      assert.equal(await row.locator('td.kind').textContent(), 'dynamic');
      assert.match((await row.textContent()) ?? '', /0 3 \* \* \*.*Europe\/Paris.*Report/s);
      assert.equal((await app.store.admin.counts({ queues: ['reports'] }))[0]?.waiting ?? 0, 0);

      // A POST without the page's token is refused and enqueues nothing.
      const forged = (await page.evaluate(
        `fetch('schedules/nightly-report/run', { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '_csrf=forged' }).then((r) => r.status)`,
      )) as number;
      assert.equal(forged, 403);
      assert.equal((await app.store.admin.counts({ queues: ['reports'] }))[0]?.waiting ?? 0, 0, 'refused: nothing enqueued');

      await row.locator('button', { hasText: 'Run now' }).click();
      await page.waitForURL(/\/schedules\?done=run/);
      const said = (await page.locator('.notice').textContent()) ?? '';
      const id = Number(/job (\d+) enqueued, due now/.exec(said)?.[1]);
      assert.ok(id > 0, said);
      const job = await app.store.admin.getJob({ id });
      assert.deepEqual([job?.handler, job?.queue, job?.status], ['Report', 'reports', 'new']);
      const [s] = await app.store.admin.listSchedules({});
      assert.deepEqual([s?.key, s?.lastTickAtMs], ['nightly-report', null], 'not a tick: the last tick stays');
      await page.locator('.notice a', { hasText: `job ${id}` }).click();
      await page.waitForURL(new RegExp(`/jobs/${id}$`));
    });
  });
}
