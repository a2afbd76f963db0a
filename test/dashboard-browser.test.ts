// The dashboard in a real browser (headless chromium), standalone (`jobs-runtime dashboard`, a
// child process) on every store, with a real runtime: what an operator sees and does. Page
// contents are read from the rendered DOM; what an action did is checked in the store.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { type Browser, launchBrowser } from './helpers/browser.ts';
import { killAll, type RunningCli, startCli } from './helpers/cli.ts';
import { freePort } from './helpers/free-port.ts';
import { claimsById, jobRow } from './helpers/job-rows.ts';
import { createOpsApp, exited, type OpsApp, waitForStart } from './helpers/ops.ts';
import { STORE_FACTORIES } from './helpers/stores.ts';
import { sleep, waitFor } from './helpers/wait.ts';
import type { JobId, JobStore } from '../src/stores/store.ts';

const XSS_PAYLOAD = '<img src=x onerror=alert(1)>';
const XSS_ERROR = 'Error: <script>alert(2)</script> went wrong\n    at run (Ok.ts:3:11)';

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  killAll();
  await browser?.close();
});

/** A failed job whose payload and exception hold markup (enqueued, claimed and failed through the store). */
async function failedXssJob(store: JobStore, queue: string): Promise<JobId> {
  const [id] = await store.producer.enqueue({ jobs: [jobRow({ queue, payload: { note: XSS_PAYLOAD } })] });
  const claim = claimsById(await store.queue.claim({ owner: 'seed', queues: [queue], limit: 1 }));
  await store.queue.record({ owner: 'seed', results: [{ ...claim(id!), queue, outcome: 'failed', error: XSS_ERROR }] });
  return id!;
}

/** Starts `jobs-runtime dashboard` and waits for the address it prints. */
export async function startDashboard(app: OpsApp, args: string[] = []): Promise<{ cli: RunningCli; url: string }> {
  const port = await freePort();
  const cli = app.start(['dashboard', '--port', String(port), ...args]);
  const url = await waitFor(`the dashboard's banner (stderr: ${cli.stderr().slice(-300)})`, () => / at (http:\S+)/.exec(cli.stdout())?.[1] ?? null, 15_000);
  return { cli, url };
}

/** POSTs a form from the page (a string expression: tsx's helpers do not exist in the page). */
function postFromPage(page: Page, action: string, body: string): Promise<number> {
  return page.evaluate(
    `fetch(${JSON.stringify(action)}, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: ${JSON.stringify(body)}, redirect: 'manual' }).then((r) => r.status)`,
  ) as Promise<number>;
}

async function cellText(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

for (const factory of STORE_FACTORIES) {
  describe(`dashboard in a browser: ${factory.kind}`, () => {
    let app: OpsApp;
    let runtime: RunningCli;
    let dash: { cli: RunningCli; url: string };
    let failedId: JobId;
    let page: Page;
    const dialogs: string[] = [];

    before(async () => {
      app = await createOpsApp(factory, 'dash_ui');
      failedId = await failedXssJob(app.store, 'd-fail');
      await app.store.admin.setQueuePaused({ queue: 'd-held', paused: true });
      await app.store.producer.enqueue({ jobs: Array.from({ length: 3 }, () => jobRow({ queue: 'd-held' })) });
      runtime = app.start(['start', '--procs', '1', '--sleep', '0.2', '--quiet']);
      await waitForStart(runtime);
      dash = await startDashboard(app);
      page = await browser.context.newPage();
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
    });
    after(async () => {
      await page?.close();
      runtime?.child.kill('SIGTERM');
      dash?.cli.child.kill('SIGTERM');
      if (runtime) await exited(runtime, 20_000).catch(() => undefined);
      if (dash) await exited(dash.cli, 10_000).catch(() => undefined);
      killAll();
      await app?.cleanup();
    });

    test('the overview shows the live runtime and the right counts, and refreshes by itself', async () => {
      await page.goto(dash.url);
      const row = page.locator(`#runtimes tr[data-pid="${runtime.pid}"]`);
      assert.equal(await row.locator('td.state').textContent(), 'live');
      assert.equal(await cellText(page, '#queues tr[data-queue="d-held"] td.waiting'), '3');
      assert.equal(await cellText(page, '#queues tr[data-queue="d-held"] td.state'), 'paused');
      assert.equal(await cellText(page, '#queues tr[data-queue="d-fail"] td.failed'), '1');
      // Two more jobs, no reload: the polled overview shows them.
      await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'd-held' }), jobRow({ queue: 'd-held' })] });
      await waitFor('the overview to show 5 waiting', async () => (await cellText(page, '#queues tr[data-queue="d-held"] td.waiting')) === '5', 10_000, 100);
    });

    test('resume and pause from the page take effect', async () => {
      await page.goto(dash.url);
      await page.locator('#queues tr[data-queue="d-held"] button', { hasText: 'Resume' }).click();
      await page.waitForURL(/done=resumed/);
      assert.match(await cellText(page, '.notice'), /Queue d-held resumed/);
      assert.deepEqual(await app.store.admin.listPausedQueues({}), []);
      await waitFor('d-held to drain once resumed', async () => (await app.store.admin.counts({ queues: ['d-held'] })).length === 0, 20_000, 50);

      await page.locator('#queues tr[data-queue="d-held"] button', { hasText: 'Pause' }).click();
      await page.waitForURL(/done=paused/);
      assert.equal(await cellText(page, '#queues tr[data-queue="d-held"] td.state'), 'paused');
      const [held] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'd-held' })] });
      await sleep(800); // a few polls of the runtime (--sleep 0.2)
      assert.equal((await app.store.admin.getJob({ id: held! }))?.status, 'new', 'a paused queue is not claimed');
    });

    test('a failed job is found, opened (markup shown as text) and retried from the page, then runs', async () => {
      await page.goto(`${dash.url}failed`);
      await page.locator(`#failed tr[data-job="${failedId}"] a`).click();
      await page.waitForURL(new RegExp(`/jobs/${failedId}$`));
      assert.match(await cellText(page, '#payload'), /"note": "<img src=x onerror=alert\(1\)>"/);
      assert.equal(await page.locator('#payload img, main img, main script').count(), 0, 'no element made from the payload or the exception');
      assert.match(await cellText(page, '#exception'), /<script>alert\(2\)<\/script> went wrong\n\s+at run/);
      if (process.env.DASHBOARD_SCREENSHOTS === '1' && factory.kind === 'sqlite') await page.screenshot({ path: 'docs/dashboard-job.png', fullPage: true });
      await page.locator('button', { hasText: 'Retry' }).click();
      await page.waitForURL(/done=retried&n=1/);
      assert.match(await cellText(page, '.notice'), /Put back to run/);
      await waitFor('the retried job to run (completed rows are deleted)', async () => (await app.store.admin.getJob({ id: failedId })) === null, 20_000, 50);
      assert.deepEqual(dialogs, [], 'no dialog opened');
    });

    test('a POST without the CSRF token, or with a wrong one, is refused', async () => {
      await page.goto(dash.url);
      // Sent from the page itself (same origin, its cookie included): only the token is missing or wrong.
      const statuses = await Promise.all(['', '_csrf=forged'].map((body) => postFromPage(page, `${dash.url}queues/d-other/pause`, body)));
      assert.deepEqual(statuses, [403, 403]);
      assert.deepEqual(
        (await app.store.admin.listPausedQueues({})).map((p) => p.queue),
        ['d-held'],
      );
    });
  });
}

describe('dashboard command: safety defaults', () => {
  let app: OpsApp;
  before(async () => {
    app = await createOpsApp(STORE_FACTORIES.find((f) => f.kind === 'sqlite')!, 'dash_cli');
  });
  after(async () => {
    killAll();
    await app?.cleanup();
  });

  test('another address than loopback without --token: refused, saying why', async () => {
    const r = await app.cli(['dashboard', '--host', '0.0.0.0', '--port', String(await freePort())]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Refusing to serve the dashboard on 0\.0\.0\.0 without credentials.*--token/);
  });

  test('with --token, a request without it is refused (401); with it, served', async () => {
    const { cli, url } = await startDashboard(app, ['--token', 's3cret', '--base-path', '/ops']);
    try {
      assert.match(url, /\/ops\/$/);
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { Authorization: 'Bearer wrong' } })).status, 401);
      const ok = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from('any:s3cret').toString('base64')}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /href="\/ops\/failed"/);
    } finally {
      cli.child.kill('SIGTERM');
      assert.equal((await exited(cli, 10_000)).code, 0);
    }
  });

  test('--read-only: no action is shown, and a POST is refused (403)', async () => {
    const [failed] = await app.store.producer.enqueue({ jobs: [jobRow({ queue: 'ro' })] });
    const claim = claimsById(await app.store.queue.claim({ owner: 'seed', queues: ['ro'], limit: 1 }));
    await app.store.queue.record({ owner: 'seed', results: [{ ...claim(failed!), queue: 'ro', outcome: 'failed', error: 'Error: x' }] });
    const { cli, url } = await startDashboard(app, ['--read-only']);
    const page = await browser.context.newPage();
    try {
      await page.goto(`${url}jobs/${failed}`);
      assert.equal(await page.locator('main button, main form[method="post"]').count(), 0);
      await page.goto(url);
      assert.equal(await page.locator('main button').count(), 0);
      assert.match(await cellText(page, 'header .badge'), /read-only/);
      const status = await postFromPage(page, `${url}failed/retry`, 'ids=1');
      assert.equal(status, 403);
      assert.equal((await app.store.admin.getJob({ id: failed! }))?.status, 'failed');
    } finally {
      await page.close();
      cli.child.kill('SIGTERM');
      await exited(cli, 10_000);
    }
  });

  test('unknown route 404, malformed id 400, a store that is down 503 saying so', async () => {
    const { cli, url } = await startDashboard(app);
    // Nothing listens on port 1: the store is down for the whole test.
    const down = startCli(['dashboard', '--port', String(await freePort()), '--database-url', 'mysql://root@127.0.0.1:1/nothing'], {
      cwd: app.dir,
      timeoutMs: 30_000,
    });
    try {
      const missing = await fetch(`${url}no/such/page`);
      assert.equal(missing.status, 404);
      const bad = await fetch(`${url}jobs/12abc`);
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /Invalid job id &#39;12abc&#39;: ids are whole numbers from 1 up/);
      const downUrl = await waitFor('the second banner', () => / at (http:\S+)/.exec(down.stdout())?.[1] ?? null, 15_000);
      const r = await fetch(downUrl);
      assert.equal(r.status, 503);
      assert.match(await r.text(), /The store \(mysql:\/\/root@127\.0\.0\.1:1\/nothing\) did not answer/);
    } finally {
      cli.child.kill('SIGTERM');
      down.child.kill('SIGTERM');
      await Promise.all([exited(cli, 10_000), exited(down, 10_000)]);
    }
  });
});
