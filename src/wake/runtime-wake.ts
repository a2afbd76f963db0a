import { InvalidInputError } from '../errors.js';
import type { JobStore } from '../stores/store.js';
import { defaultWakeHost, type WakeBind } from './wake-address.js';
import { WakeCoalescer } from './wake-coalescer.js';
import { RecentWakeKeys } from './wake-message.js';
import { wakeEnabled } from './wake-dir.js';
import { WakeListener } from './wake-listener.js';
import { NetworkWakeListener } from './network-listener.js';

// Every way a runtime can be woken, put together for the master: the same-host datagram
// (wake-listener.ts, every store), and from other hosts either the store's own channel (Redis
// pub/sub) or a UDP socket whose address goes into the runtime registry (MySQL). All of them
// go through one WakeCoalescer, so whatever arrives, and however often, costs at most a
// bounded number of claims. One dispatch usually arrives by two paths (same host and the
// store's): the second message, with the same key, is dropped before the coalescer. JOBS_WAKE=0 turns every path off.

export interface WakePaths {
  /** What listens, for the banner: e.g. ['udp 10.0.0.5:41234'] or ['pub/sub']; empty: same host only or none. */
  remote: string[];
  /** Same-host wake-up works. */
  local: boolean;
  /** Warnings to print (a path that could not be opened: polling still finds the jobs). */
  warnings: string[];
}

export class RuntimeWake {
  private readonly coalescer: WakeCoalescer;
  private readonly local: WakeListener;
  private readonly network: NetworkWakeListener;
  private readonly recent = new RecentWakeKeys();
  private closeChannel: (() => Promise<void>) | null = null;
  /** `host:port` to register for dispatchers on other hosts; null: none. */
  registeredAddress: string | null = null;

  constructor(
    private readonly store: JobStore,
    /** --wake-address: an address, 'local', or null for the default. */
    private readonly choice: WakeBind | 'local' | null,
    onWake: () => void,
    /** A wake-up named this job (its key is a job id: a dispatch's first). */
    private readonly onJob: (id: number) => void = () => undefined,
  ) {
    this.coalescer = new WakeCoalescer(onWake);
    this.local = new WakeListener(store.displayUrl, this.signal);
    this.network = new NetworkWakeListener(this.signal);
  }

  /** A claim found jobs: the wake-up that led to it was work, not a flood (see WakeCoalescer.refund). */
  foundJobs(): void {
    this.coalescer.refund();
  }

  async start(): Promise<WakePaths> {
    const paths: WakePaths = { remote: [], local: false, warnings: [] };
    if (!wakeEnabled()) return paths;
    paths.local = await this.local.start();
    if (this.local.unavailableBecause) paths.warnings.push(`Same-host wake-up off (${this.local.unavailableBecause}): new jobs are found by the next poll`);
    const kind = this.store.capabilities.crossHostWake;
    if (kind === 'channel' && this.store.wakeChannel) {
      this.closeChannel = await this.store.wakeChannel.listen({ onWake: this.signal });
      paths.remote.push('pub/sub');
    } else if (kind === 'address' && this.choice !== 'local') {
      await this.listenOnNetwork(paths);
    }
    if (kind !== 'address' && this.choice !== null && this.choice !== 'local') {
      paths.warnings.push(
        `--wake-address has no effect on ${this.store.kind}: ` +
          (kind === 'channel'
            ? 'wake-ups from other hosts come through the store itself'
            : 'its runtimes all run on one host, and the same-host wake-up reaches them'),
      );
    }
    return paths;
  }

  private readonly signal = (key: string | null): void => {
    if (key !== null && this.recent.seen(key)) return; // the same dispatch by its other path
    if (key !== null && /^[1-9]\d{0,14}$/.test(key)) this.onJob(Number(key));
    this.coalescer.signal();
  };

  private async listenOnNetwork(paths: WakePaths): Promise<void> {
    const given = this.choice === 'local' ? null : this.choice;
    const host = given?.host ?? (await defaultWakeHost(this.store.displayUrl));
    if (host === null) return; // this host has no address but loopback: same-host only
    try {
      this.registeredAddress = await this.network.start({ host, port: given?.port ?? 0 });
      paths.remote.push(`udp ${this.registeredAddress}`);
    } catch (e) {
      const why = (e as Error).message;
      if (given) throw new InvalidInputError(`--wake-address: cannot listen on ${host}${given.port ? `:${given.port}` : ''} (${why})`);
      paths.warnings.push(`Wake-up from other hosts off (cannot listen on ${host}: ${why}): their dispatches are found by the next poll`);
    }
  }

  async close(): Promise<void> {
    this.coalescer.close();
    this.local.close();
    this.network.close();
    await this.closeChannel?.().catch(() => undefined);
    this.closeChannel = null;
  }
}
