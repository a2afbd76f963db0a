import { spawn, type ChildProcess } from 'node:child_process';

// systemd's notify protocol for a Type=notify unit: "READY=1" once the master works, then
// "WATCHDOG=1" more often than WatchdogSec, so that a master that hangs (not only one that
// dies) is restarted. Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
//
// The watchdog pings come from a timer of their own, paced by $WATCHDOG_USEC (what the unit's
// WatchdogSec says), not from the heartbeat: any --heartbeat works under any WatchdogSec, and
// the timer firing is what proves the event loop is alive.
//
// A message is one datagram on the unix socket named by $NOTIFY_SOCKET; Node cannot send unix
// datagrams, so each one is sent by systemd's own `systemd-notify`, a short-lived child. The
// unit therefore has NotifyAccess=all. systemd attributes a message to a unit by the sender's
// cgroup, looked up when it processes the message: a sender that has already exited by then
// is not found and its message is dropped. systemd-notify run without --no-block avoids that
// race: after the message it sends BARRIER=1 and waits until systemd has processed everything
// it sent (systemd 246 and later; Debian 12 has 252). So every call here waits for nothing,
// but the child it starts stays alive until systemd has the message.

export interface NotifyEnvironment {
  /** $NOTIFY_SOCKET: a path, or '@name' for an abstract socket. */
  socket: string | null;
  /** $WATCHDOG_USEC, when the watchdog is meant for this process. */
  watchdogUsec: number | null;
}

type Spawn = (command: string, args: string[], env: NodeJS.ProcessEnv) => ChildProcess;

const defaultSpawn: Spawn = (command, args, env) => spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });

/** Reads the notify variables and removes them, as sd_notify(unset_environment=1) does. */
export function takeNotifyEnvironment(env: NodeJS.ProcessEnv = process.env, pid = process.pid): NotifyEnvironment {
  const socket = env.NOTIFY_SOCKET || null;
  const usec = Number(env.WATCHDOG_USEC);
  // WATCHDOG_PID names the process the watchdog is for: a child that inherited it is not.
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  const watchdogUsec = socket && forUs && Number.isSafeInteger(usec) && usec > 0 ? usec : null;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  return { socket, watchdogUsec };
}

export class SystemdNotifier {
  private ready = false;
  /** The watchdog ping in flight: a slow one is not doubled up. */
  private pinging: ChildProcess | null = null;
  private reportedError = false;

  constructor(
    private readonly env: NotifyEnvironment,
    private readonly spawnFn: Spawn = defaultSpawn,
    private readonly command = 'systemd-notify',
  ) {}

  get enabled(): boolean {
    return this.env.socket !== null;
  }

  /** READY=1, sent once however often it is called. */
  notifyReady(): void {
    if (!this.enabled || this.ready) return;
    this.ready = true;
    this.send(['--ready']);
  }

  /** WATCHDOG=1, when systemd set a watchdog for this process. */
  notifyWatchdog(): void {
    if (this.env.watchdogUsec === null || this.pinging) return;
    const child = this.send(['WATCHDOG=1']);
    if (!child) return;
    this.pinging = child;
    child.once('close', () => (this.pinging = null));
  }

  /** STOPPING=1: the stop is on purpose (a signal, or a restart limit that drains the master). */
  notifyStopping(): void {
    if (this.enabled) this.send(['STOPPING=1']);
  }

  /**
   * How often to ping: a third of WatchdogSec; null without a watchdog. sd_watchdog_enabled(3)
   * advises half; a third leaves room for a ping whose systemd-notify is slow to start on a
   * loaded machine, or one skipped because the previous ping is still in flight.
   */
  watchdogIntervalMs(): number | null {
    return this.env.watchdogUsec === null ? null : Math.max(1, Math.floor(this.env.watchdogUsec / 3000));
  }

  /** Pings at watchdogIntervalMs() until the returned function is called; nothing without a watchdog. */
  startWatchdog(): () => void {
    const every = this.watchdogIntervalMs();
    if (every === null) return () => undefined;
    this.notifyWatchdog();
    const timer = setInterval(() => this.notifyWatchdog(), every);
    timer.unref(); // the pings never keep the master alive
    return () => clearInterval(timer);
  }

  private send(args: string[]): ChildProcess | null {
    // NOTIFY_SOCKET was taken out of process.env; systemd-notify gets it back explicitly.
    const env = { ...process.env, NOTIFY_SOCKET: this.env.socket! };
    let child: ChildProcess;
    try {
      child = this.spawnFn(this.command, args, env);
    } catch (e) {
      this.reportError(`cannot run ${this.command}: ${(e as Error).message}`);
      return null;
    }
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (e) => this.reportError(`cannot run ${this.command}: ${e.message}`));
    child.once('close', (code) => {
      if (code !== 0 && code !== null) this.reportError(`${this.command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
    });
    // Never keeps the master alive at exit.
    child.unref();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  private reportError(message: string): void {
    // Once: a missing systemd-notify would otherwise print at every heartbeat. stderr reaches
    // the journal, where the start timeout or watchdog kill that follows is reported too.
    if (this.reportedError) return;
    this.reportedError = true;
    process.stderr.write(`jobs-runtime: systemd notification failed (${message}); is NotifyAccess=all set and systemd-notify installed?\n`);
  }
}

// Taken when this module loads, before the worker threads start: they copy process.env, and
// jobs that start programs must not be able to report to systemd in this unit's name.
const notifier = new SystemdNotifier(takeNotifyEnvironment());

/** Tells systemd the master is up: call after the first successful claim round. */
export function notifyReady(): void {
  notifier.notifyReady();
}

/** Starts the watchdog pings (when systemd asked for them); call the result to stop them. */
export function startWatchdog(): () => void {
  return notifier.startWatchdog();
}

/** Tells systemd the master is stopping on purpose: call when a stop begins. */
export function notifyStopping(): void {
  notifier.notifyStopping();
}
