// A ✔ line is written once the job's result is in the store, so worker.log and the table
// agree: while the result's write waits (here, for a row lock the test holds on the job's
// row), the job has finished running but no ✔ line is out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { killAll, startCli } from './helpers/cli.ts';
import { createApp, type E2eApp } from './helpers/e2e.ts';
import { jobRow } from './helpers/job-rows.ts';
import { waitFor } from './helpers/wait.ts';

describe('the ✔ line tells the truth (MySQL)', () => {
  let app: E2eApp;
  before(async () => {
    app = await createApp('mysql', 'log_after_record');
  });
  after(async () => {
    killAll();
    await app.close();
  });

  test('no ✔ line while the result is not recorded; the line comes once it is, and the row is gone then', async () => {
    const [id] = await app.store.producer.enqueue({ jobs: [jobRow({ handler: 'Sleeps', payload: { ms: 800 } })] });
    const rt = startCli(['start', ...app.storeArgs, '--procs', '1', '--sleep', '0.05'], { cwd: app.dir, timeoutMs: 60_000 });
    const lockConn = await mysql.createConnection(app.url);
    try {
      await waitFor('the job to be claimed', async () => (await app.count(`id = ${id} AND status = 'processing'`)) === 1, 20_000);
      // The claim has committed: lock the row so the runtime's write of the result must wait.
      await lockConn.query('BEGIN');
      await lockConn.query('SELECT id FROM jobs WHERE id = ? FOR UPDATE', [id]);
      await waitFor(
        "the runtime's result write to wait for the test's lock (the job has finished)",
        async () => {
          const [rows] = await lockConn.query<mysql.RowDataPacket[]>(
            // The write's first statement locks the claims it finishes (SELECT … FOR UPDATE), then deletes them.
            "SELECT 1 FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE '%FROM jobs WHERE id IN (%'",
          );
          return rows.length > 0;
        },
        30_000,
      );
      assert.doesNotMatch(rt.stdout(), new RegExp(`Job processed successfully: ${id}\\b`), 'no ✔ line before the result is recorded');
      await lockConn.query('COMMIT');
      await waitFor('the ✔ line', () => new RegExp(`Job processed successfully: ${id}\\b`).test(rt.stdout()), 20_000);
      assert.equal(await app.count(`id = ${id}`), 0, 'the row is gone once the ✔ line is out');
    } finally {
      await lockConn.end();
      rt.child.kill('SIGTERM');
      await rt.done;
    }
  });
});
