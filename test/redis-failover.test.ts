// A Redis behind the store URL changes under the runtime: its script cache is flushed (a
// restart, SCRIPT FLUSH), or the primary is demoted to a replica (a failover behind the same
// name). Two private redis-servers on ports of their own, stopped by pid at the end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StoreUnavailableError } from '../src/errors.ts';
import { openStore } from '../src/stores/open-store.ts';
import type { JobStore } from '../src/stores/store.ts';
import { startRedis, type PrivateRedis } from './helpers/private-redis.ts';
import { waitFor } from './helpers/wait.ts';
import { jobRow } from './helpers/job-rows.ts';

const connectionsReceived = async (r: PrivateRedis) => Number(/total_connections_received:(\d+)/.exec(await r.admin.info('stats'))?.[1]);

describe('Redis store: a server that changes under it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jr-redis-failover-'));
  let primary: PrivateRedis;
  let other: PrivateRedis;
  let store: JobStore;

  before(async () => {
    [primary, other] = await Promise.all([startRedis(dir), startRedis(dir)]);
    store = await openStore(`redis://127.0.0.1:${primary.port}/0?prefix=failover:`);
  });
  after(async () => {
    await store?.close().catch(() => undefined);
    for (const r of [primary, other]) {
      r?.admin.disconnect();
      r?.child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('after SCRIPT FLUSH, a bulk enqueue of several script calls (one MULTI) still stores every job', async () => {
    await store.producer.enqueue({ jobs: [jobRow({ handler: 'Warm' })] }); // scripts now cached by the client
    await primary.admin.script('FLUSH');
    const ids = await store.producer.enqueue({ jobs: Array.from({ length: 2_500 }, (_, n) => jobRow({ handler: 'Bulk', payload: JSON.stringify({ n }) })) });
    assert.equal(ids.length, 2_500);
    assert.equal(new Set(ids).size, 2_500);
    assert.equal((await store.admin.getJob({ id: ids[2_499]! }))?.payload, '{"n":2499}');
  });

  test('a primary demoted to replica: READONLY is a StoreUnavailableError, and the next operation reconnects', async () => {
    await store.producer.enqueue({ jobs: [jobRow({ handler: 'Before' })] });
    await primary.admin.replicaof('127.0.0.1', other.port);
    await waitFor('the demoted server to refuse writes', async () => /role:slave/.test(await primary.admin.info('replication')), 10_000, 100);
    await assert.rejects(
      store.producer.enqueue({ jobs: [jobRow({ handler: 'During' })] }),
      (e: Error) => e instanceof StoreUnavailableError && /read-only replica/.test(e.message),
    );
    // The name now points at a primary again (here: the same server, promoted back).
    await primary.admin.replicaof('NO', 'ONE');
    const before = await connectionsReceived(primary);
    const [id] = await store.producer.enqueue({ jobs: [jobRow({ handler: 'After' })] });
    assert.equal((await store.admin.getJob({ id: id! }))?.handler, 'After');
    assert.equal((await connectionsReceived(primary)) - before, 1, 'the store opened a new connection after READONLY');
  });
});
