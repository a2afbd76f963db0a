import pidusage from 'pidusage';
import type { Registry, RuntimeInfo, RuntimeStats } from '../stores/store.js';
import { isDeadOnThisHost } from './host-identity.js';
import type { Logger } from './logger.js';
import { timerMs } from './long-timers.js';

// Registers this runtime, heartbeats every few seconds with its CPU and memory, and gives back
// the claimed jobs of dead peers. Dead means silent for longer than the dead-after window (by
// the store's clock), or, on this machine, a process that no longer exists. Recovery is by
// owner, never by a job's age, so a long job on a live runtime is never taken away.

export interface HeartbeatOptions {
  registry: Registry;
  log: Logger;
  runtime: RuntimeInfo;
  intervalMs: number;
  deadAfterMs: number;
  maxInterruptions: number;
  /** Figures from the runtime for each beat. */
  stats: () => Omit<RuntimeStats, 'cpuPercent' | 'rssBytes'>;
  /** Called after each beat with the master's RSS, for the memory limit. */
  onBeat?: (rssBytes: number) => void;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  /** When the store last failed us; recovery waits a full window after it (see recover()). */
  private lastStoreFailure = 0;

  constructor(private readonly o: HeartbeatOptions) {}

  /** Registers, recovers dead peers once (this may be the next runtime to start), then beats. */
  async start(): Promise<void> {
    await this.o.registry.registerRuntime({ runtime: this.o.runtime });
    await this.recover();
    this.timer = setInterval(() => {
      this.beating ??= this.beat().finally(() => (this.beating = null));
    }, timerMs(this.o.intervalMs));
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    let usage = { cpu: 0, memory: process.memoryUsage.rss() };
    try {
      usage = await pidusage(process.pid);
    } catch {
      // pidusage reads /proc; without it the beat still says we are alive
    }
    this.o.onBeat?.(usage.memory);
    try {
      await this.o.registry.heartbeat({ runtime: this.o.runtime, stats: { ...this.o.stats(), cpuPercent: usage.cpu, rssBytes: usage.memory } });
    } catch {
      // The claim loop and result writer report the outage; here it only delays recovery.
      this.lastStoreFailure = Date.now();
      return;
    }
    // A recovery that fails while beats succeed (a lock error past its retries) says nothing
    // about peers' heartbeats: it is tried again next beat, not suspended for a dead-after window.
    await this.recover().catch(() => undefined);
  }

  private async recover(): Promise<void> {
    // After an outage every peer's heartbeat is stale by as long as the store was away. Waiting
    // one full window lets live peers beat again first, so none is mistaken for dead.
    if (Date.now() - this.lastStoreFailure < this.o.deadAfterMs) return;
    const peers = await this.o.registry.listRuntimes({});
    const alsoDead = peers.filter((p) => p.id !== this.o.runtime.id && isDeadOnThisHost(p.id, p.pid)).map((p) => p.id);
    const report = await this.o.registry.recoverDeadRuntimes({ deadAfterMs: this.o.deadAfterMs, maxInterruptions: this.o.maxInterruptions, alsoDead });
    if (report.runtimes.length > 0 || report.released > 0 || report.failed > 0) {
      this.o.log.warn(
        `Recovered ${report.runtimes.length} dead runtime(s) ${report.runtimes.join(', ')}: ${report.released} job(s) given back to run again` +
          (report.failed ? `, ${report.failed} failed after too many interruptions` : ''),
        { ...report },
      );
    }
  }

  /** Stops beating and leaves the registry (clean exit). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    try {
      await this.o.registry.deregisterRuntime({ id: this.o.runtime.id });
    } catch (e) {
      this.o.log.warn(`Could not leave the runtime registry (${(e as Error).message}); peers will remove this runtime once its heartbeat is stale`);
    }
  }
}
