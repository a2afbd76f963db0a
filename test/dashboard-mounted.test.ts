// The dashboard as a package entry (`jobs-runtime/dashboard`, resolved through the package's
// own exports map, so dist/ as an app gets it), mounted under a sub-path in Express, in Fastify
// (through @fastify/middie) and under node:http with basePath, driven by a real browser: assets
// load, links and actions stay under the sub-path, authorize() decides who gets in.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import middie from '@fastify/middie';
import express from 'express';
import Fastify from 'fastify';
import { dashboard } from 'jobs-runtime/dashboard';
import { type Browser, launchBrowser } from './helpers/browser.ts';
import { jobRow } from './helpers/job-rows.ts';
import { STORE_FACTORIES, type StoreFixture } from './helpers/stores.ts';

let browser: Browser;
let fx: StoreFixture;
const servers: Server[] = [];
const closers: Array<() => Promise<unknown>> = [];

before(async () => {
  browser = await launchBrowser();
  fx = await STORE_FACTORIES.find((f) => f.kind === 'sqlite')!.create('dash_mounted');
  await fx.store.producer.enqueue({ jobs: [jobRow({ queue: 'm-q' })] });
});
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await Promise.all(closers.map((c) => c()));
  await browser?.close();
  await fx?.cleanup();
});

function listen(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** The app's own session check: only a browser holding session=admin gets in. */
const authorize = (req: { headers: { cookie?: string } }) => /(^|;\s*)session=admin(;|$)/.test(req.headers.cookie ?? '');

describe('dashboard mounted', () => {
  test('refuses to be created without authorize()', () => {
    assert.throws(() => dashboard({ store: fx.store } as never), /dashboard\(\) needs an authorize\(req\) function/);
  });

  for (const how of ['Express app.use', 'Fastify with @fastify/middie', 'node:http with basePath'] as const) {
    test(`${how} under /ops/jobs: assets load, links and actions stay under it, unauthorised is refused`, async () => {
      let origin: string;
      if (how === 'Express app.use') {
        const app = express();
        app.use('/ops/jobs', dashboard({ store: fx.store, authorize }));
        app.get('/', (_req, res) => void res.send('the app'));
        origin = await listen(createServer(app));
      } else if (how === 'Fastify with @fastify/middie') {
        const app = Fastify();
        await app.register(middie);
        app.use('/ops/jobs', dashboard({ store: fx.store, authorize }));
        origin = await app.listen({ port: 0, host: '127.0.0.1' });
        closers.push(() => app.close());
      } else {
        const handler = dashboard({ store: fx.store, authorize, basePath: '/ops/jobs' });
        origin = await listen(createServer((req, res) => void handler(req, res)));
      }
      assert.equal((await fetch(`${origin}/ops/jobs/`)).status, 403, 'no session: refused');
      assert.equal((await fetch(`${origin}/ops/jobs/assets/dashboard.css`)).status, 403, 'assets too');

      await browser.context.addCookies([{ name: 'session', value: 'admin', url: origin }]);
      const page = await browser.context.newPage();
      const assets: Array<[string, number]> = [];
      page.on('response', (r) => {
        if (r.url().includes('/assets/')) assets.push([new URL(r.url()).pathname, r.status()]);
      });
      try {
        await page.goto(`${origin}/ops/jobs/`);
        await page.waitForFunction('window.htmx !== undefined && getComputedStyle(document.querySelector("header")).display === "flex"', null, {
          timeout: 10_000,
        });
        assert.deepEqual(assets.sort(), [
          ['/ops/jobs/assets/dashboard.css', 200],
          ['/ops/jobs/assets/dashboard.js', 200],
          ['/ops/jobs/assets/htmx.min.js', 200],
        ]);
        const links = (await page.evaluate(
          '[...document.querySelectorAll("a[href], form[action], link[href], script[src]")].map((e) => e.getAttribute("href") ?? e.getAttribute("action") ?? e.getAttribute("src"))',
        )) as string[];
        assert.ok(links.length >= 6, `links: ${links}`);
        for (const l of links) assert.match(l, /^\/ops\/jobs\//, `link ${l}`);

        await page.locator('#queues tr[data-queue="m-q"] button', { hasText: 'Pause' }).click();
        await page.waitForURL(/\/ops\/jobs\/\?done=paused/);
        assert.deepEqual(
          (await fx.store.admin.listPausedQueues({})).map((p) => p.queue),
          ['m-q'],
        );
        await page.locator('#queues tr[data-queue="m-q"] button', { hasText: 'Resume' }).click();
        await page.waitForURL(/\/ops\/jobs\/\?done=resumed/);
        assert.deepEqual(await fx.store.admin.listPausedQueues({}), []);
        await page.locator('header nav a', { hasText: 'Failed jobs' }).click();
        await page.waitForURL(`${origin}/ops/jobs/failed`);
      } finally {
        await page.close();
        await browser.context.clearCookies();
      }
    });
  }
});
