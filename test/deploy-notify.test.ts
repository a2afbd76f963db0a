// The systemd notifier (src/runtime/systemd-notify.ts) against a real notify socket: a small
// Python listener plays systemd's side of the protocol (one datagram per message, with the
// sender's credentials; BARRIER=1 carries a file descriptor that is closed once processed),
// and the messages are sent by the real systemd-notify, as under a Type=notify unit.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SystemdNotifier, takeNotifyEnvironment } from '../src/runtime/systemd-notify.ts';
import { killAll, startCli } from './helpers/cli.ts';
import { createApp } from './helpers/e2e.ts';
import { waitFor } from './helpers/wait.ts';

const LISTENER = `
import array, os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print("listening", flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64 * 4) + socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)  # what systemd does once it has processed the messages before it
        elif level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = int.from_bytes(data[0:4], sys.byteorder)
    print(f"{time.monotonic():.3f}", pid, msg.decode().strip().replace("\\n", "|"), flush=True)
`;

let dir: string;
let socketPath: string;
let listener: ChildProcess;
let received = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jr-deploy-notify-'));
  socketPath = join(dir, 'notify.sock');
  writeFileSync(join(dir, 'listener.py'), LISTENER);
  listener = spawn('python3', [join(dir, 'listener.py'), socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  listener.stdout!.on('data', (d: Buffer) => (received += d.toString()));
  await waitFor('the notify socket', () => received.includes('listening'), 10_000);
});

after(() => {
  killAll();
  if (listener.pid) process.kill(listener.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Messages received so far, without the barriers: when (the listener's clock, s), from which pid, what. */
const datagrams = () =>
  received
    .split('\n')
    .slice(1)
    .filter((l) => l && !l.endsWith('BARRIER=1'))
    .map((l) => {
      const [at, pid, ...text] = l.split(' ');
      return { at: Number(at), pid: Number(pid), text: text.join(' ') };
    });
const messages = () => datagrams().map((m) => m.text);

describe('systemd notifications', () => {
  test('READY=1 once, WATCHDOG=1, STOPPING=1 reach the socket through systemd-notify', async () => {
    const n = new SystemdNotifier({ socket: socketPath, watchdogUsec: 10_000_000 });
    assert.equal(n.watchdogIntervalMs(), 3_333, 'a third of WatchdogSec');
    n.notifyReady();
    n.notifyReady(); // idempotent
    await waitFor('READY=1', () => messages().includes('READY=1'), 10_000);
    n.notifyWatchdog();
    await waitFor('WATCHDOG=1', () => messages().includes('WATCHDOG=1'), 10_000);
    n.notifyStopping();
    await waitFor('STOPPING=1', () => messages().includes('STOPPING=1'), 10_000);
    assert.deepEqual(messages(), ['READY=1', 'WATCHDOG=1', 'STOPPING=1']);
    // Each message was followed by a barrier: systemd-notify waited until it was processed.
    assert.equal(received.split('\n').filter((l) => l.endsWith('BARRIER=1')).length, 3);
  });

  test('outside systemd, or without a watchdog, nothing is started', () => {
    let spawned = 0;
    const count = () => {
      spawned++;
      throw new Error('must not run');
    };
    const none = new SystemdNotifier({ socket: null, watchdogUsec: null }, count);
    none.notifyReady();
    none.notifyWatchdog();
    none.notifyStopping();
    assert.equal(none.watchdogIntervalMs(), null);
    const noWatchdog = new SystemdNotifier({ socket: socketPath, watchdogUsec: null }, count);
    noWatchdog.notifyWatchdog();
    assert.equal(spawned, 0);
  });

  test('the variables are taken out of the environment; a watchdog meant for another pid is ignored', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '1234', PATH: '/bin' };
    assert.deepEqual(takeNotifyEnvironment(env, 1234), { socket: '/run/systemd/notify', watchdogUsec: 60_000_000 });
    assert.deepEqual(env, { PATH: '/bin' }, 'worker threads and job processes do not inherit them');
    const inherited = { NOTIFY_SOCKET: '@notify', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '1234' };
    assert.deepEqual(takeNotifyEnvironment(inherited, 999), { socket: '@notify', watchdogUsec: null });
    assert.deepEqual(takeNotifyEnvironment({}, 1), { socket: null, watchdogUsec: null });
  });

  test('a missing systemd-notify is reported once on stderr, not thrown', async () => {
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      // The real spawn, with each attempt's failure seen here too: the test waits for the second
      // attempt to have failed (its 'error' listeners, the notifier's included, have run).
      let failedAttempts = 0;
      const spawnSeen = (command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess => {
        const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
        child.once('error', () => failedAttempts++);
        return child;
      };
      const n = new SystemdNotifier({ socket: socketPath, watchdogUsec: 1_000_000 }, spawnSeen, join(dir, 'no-such-systemd-notify'));
      n.notifyReady();
      await waitFor('the error', () => writes.length > 0, 5_000);
      n.notifyWatchdog();
      await waitFor('the second attempt to fail', () => failedAttempts === 2, 5_000);
    } finally {
      process.stderr.write = original;
    }
    assert.equal(writes.length, 1);
    assert.match(writes[0]!, /systemd notification failed \(cannot run .*no-such-systemd-notify: spawn .* ENOENT\)/);
  });

  test('the runtime pings on its own timer: --heartbeat 90 under a 2 s watchdog gets a ping every third of it', async () => {
    // What systemd gives a Type=notify unit with WatchdogSec=2s. The heartbeat (90 s) is far
    // above it: pings paced by the heartbeat would get the runtime killed after 2 s.
    const app = await createApp('sqlite', 'deploy_notify');
    try {
      const earlier = datagrams().length; // from the tests above
      const rt = startCli(['start', '--procs', '1', '--heartbeat', '90', '--dead-after', '200', ...app.storeArgs], {
        cwd: app.dir,
        env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000' },
        timeoutMs: 40_000,
      });
      const fromRuntime = () => datagrams().slice(earlier);
      await waitFor('READY=1 from the runtime', () => fromRuntime().some((m) => m.text === 'READY=1'), 20_000);
      const pings = await waitFor(
        'six watchdog pings from the runtime',
        () => {
          const p = fromRuntime().filter((m) => m.text === 'WATCHDOG=1');
          return p.length >= 6 ? p : null;
        },
        15_000,
      );
      const gaps = pings.slice(1).map((p, i) => Math.round((p.at - pings[i]!.at) * 1000));
      assert.ok(
        gaps.every((g) => g < 1_000),
        `every gap under half the watchdog: ${gaps.join(', ')} ms`,
      );
      process.kill(rt.pid, 'SIGTERM');
      const r = await rt.done;
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fromRuntime().some((m) => m.text === 'STOPPING=1'));
    } finally {
      await app.close();
    }
  });
});
