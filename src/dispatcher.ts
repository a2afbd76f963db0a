import { type DispatchSettings, resolveDispatchSettings, resolveDispatchUrlSync } from './config.js';
import { openStore, type StoreConnectOptions } from './stores/open-store.js';
import type { DispatchedClass, Enqueued, JobId, JobStore, NewJob, Producer } from './stores/store.js';
import { refreshWakeAddresses, wakeByAddress } from './wake/address-sender.js';
import { wakeRuntimes } from './wake/wake-sender.js';
import { WakeThrottle } from './wake/wake-throttle.js';
import { assertNotPhpQueue, type LightpackSetting } from './values/lightpack.js';

// Where an application's dispatches go: the producer role of one store, opened on first use.
// Reading the settings changes nothing in the process (no loader, no process.env writes), and
// only the one store driver in use is loaded.

/**
 * MySQL connections a dispatching process may open unless JOBS_DISPATCH_POOL, the config file's
 * dispatchPool or the URL's ?pool= says otherwise. One INSERT is in flight at a time and the
 * dispatches made meanwhile gather into the next; the other connections serve only when a write
 * stalls (enqueue-coalescer.ts), so one slow commit does not hold up every request of a web
 * server. A script opens only the connections it uses.
 */
export const DEFAULT_DISPATCH_POOL = 4;

let current: Promise<Producer> | null = null;
let configuredUrl: string | null = null;
/** The config file's Lightpack setting, for the store its URL names: no dispatch goes to a PHP queue. */
let lightpack: LightpackSetting | undefined;
/** The URL `current` was opened for, once known: a dispatch that cannot wait reads it. */
let currentUrl: string | null = null;

/**
 * The URL dispatches go to, known without waiting (a dispatch inside better-sqlite3's
 * synchronous transaction): configure()'s, the open producer's, else the settings read now.
 */
export function dispatchUrlNow(): string {
  return configuredUrl ?? currentUrl ?? resolveDispatchUrlSync();
}

/**
 * The producer for a URL: a store's (mysql:, sqlite:, redis:), or an engine that keeps no jobs:
 * `sync:` runs them in the caller, `null:` drops them.
 */
export async function openProducer(url: string, options: StoreConnectOptions = {}): Promise<Producer> {
  if (/^sync:/i.test(url)) return new (await import('./inline/sync-producer.js')).SyncProducer();
  if (/^null:/i.test(url)) return new (await import('./inline/null-producer.js')).NullProducer();
  return (await openStore(url, options)).producer;
}

/**
 * Sets where dispatches go from now on, instead of JOBS_DATABASE_URL, `.env` or jobs.config.*
 * (an app that keeps its settings elsewhere, or whose jobs.config.ts it cannot import).
 */
export function configure(settings: { databaseUrl: string }): void {
  if (typeof settings?.databaseUrl !== 'string' || settings.databaseUrl.trim() === '') {
    throw new TypeError('configure() expects { databaseUrl: string }, e.g. configure({ databaseUrl: process.env.JOBS_URL })');
  }
  const previous = current;
  current = null;
  currentUrl = null;
  configuredUrl = settings.databaseUrl.trim();
  lightpack = undefined;
  void previous?.then((p) => p.close()).catch(() => undefined);
}

/** Uses this store (or producer) for dispatches from now on (tests, or apps that manage their own store). */
export function useStore(store: JobStore | Producer): void {
  const producer = 'producer' in store ? store.producer : store;
  current = Promise.resolve(producer);
  currentUrl = producer.displayUrl;
  lightpack = undefined;
}

export function defaultProducer(): Promise<Producer> {
  if (!current) {
    const settings: Promise<DispatchSettings> = configuredUrl !== null ? Promise.resolve({ databaseUrl: configuredUrl }) : resolveDispatchSettings();
    const opening = settings.then((s) => {
      lightpack = s.lightpack;
      currentUrl = s.databaseUrl;
      return openProducer(s.databaseUrl, { maxConnections: s.pool ?? DEFAULT_DISPATCH_POOL });
    });
    opening.catch(() => {
      if (current === opening) current = null; // a failed open is retried on the next dispatch
    });
    current = opening;
  }
  return current;
}

/** Closes the dispatch store's connections. Optional: idle connections never keep the process alive. */
export async function close(): Promise<void> {
  const c = current;
  current = null;
  currentUrl = null;
  if (c) await (await c).close();
}

/**
 * Stores (or, on sync:, runs) jobs of one class. For due ones, idle runtimes are woken: on this
 * host by datagram, on others by the store (Redis publishes from its enqueue script) or by a
 * datagram to each address in the registry (MySQL; the list is cached, read in the background).
 */
export async function dispatchJobs(jobClass: DispatchedClass, jobs: NewJob[], producer?: Producer, guard?: LightpackSetting): Promise<Enqueued[]> {
  for (const j of jobs) assertNotPhpQueue(j.queue, guard, j.handler);
  if (jobs.length === 0) return [];
  const p = producer ?? (await defaultProducer());
  if (!producer) for (const j of jobs) assertNotPhpQueue(j.queue, lightpack, j.handler);
  const due = jobs.some((j) => j.delayMs === 0);
  if (due) refreshWakeAddresses(p); // in the background, alongside the insert
  const results = await p.enqueueWithOutcome({ jobs, jobClass });
  const stored = results.find((r) => !r.duplicate);
  if (due && stored) wakeFor(p, stored.id);
  return results;
}

/** Wakes idle runtimes for a stored due job, through this process's throttle of that store's wake-ups. */
export function wakeFor(p: Producer, id: JobId): void {
  wakeThrottle(p).signal(String(id));
}

const throttles = new WeakMap<Producer, WakeThrottle>();

/** The wake-ups of one store from this process, throttled (wake-throttle.ts). */
function wakeThrottle(p: Producer): WakeThrottle {
  let t = throttles.get(p);
  if (!t) {
    // Both paths carry the same key: a runtime they both reach claims once.
    t = new WakeThrottle((key) => {
      wakeRuntimes(p.displayUrl, key);
      wakeByAddress(p, key);
    });
    throttles.set(p, t);
  }
  return t;
}
