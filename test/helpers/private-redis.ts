import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { waitFor } from './wait.ts';

// A redis-server of the test's own (a port and data directory of its own), for suites that stop,
// restart or reconfigure the server under a store. Stopped by pid (stopRedis).

export interface PrivateRedis {
  port: number;
  child: ChildProcess;
  /** A plain client for INFO, CONFIG, SCRIPT, REPLICAOF. */
  admin: Redis;
}

/** `persist`: AOF on (appendfsync always); otherwise the server keeps nothing on disk. */
export async function startRedis(dir: string, options: { port?: number; persist?: boolean; args?: string[] } = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const persistence = options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir, ...(options.args ?? [])], {
    stdio: 'ignore',
  });
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, enableOfflineQueue: false });
  admin.on('error', () => undefined);
  await waitFor(
    `redis-server on port ${port}`,
    async () =>
      admin.connect().then(
        () => true,
        () => false,
      ),
    10_000,
    100,
  );
  return { port, child, admin };
}

/** Kills it (SIGKILL, as a crash) and waits until it is gone. */
export async function stopRedis(r: PrivateRedis | undefined): Promise<void> {
  if (!r) return;
  r.admin.disconnect();
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  const exited = new Promise((resolve) => r.child.once('exit', resolve));
  r.child.kill('SIGKILL');
  await exited;
}
