import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { formatMs } from './logger.js';
import { timerMs } from './long-timers.js';
import { isFinalFailure, type JobTask, type JobTaskResult, type ThreadData } from '../execution/thread-protocol.js';
import { LOAD_LIMIT_MS, Phase, TaskSlots } from '../execution/task-slots.js';

// The Piscina pool that runs jobs. A job can end its thread (process.exit, an uncaught error
// from a timer, running out of heap, a hard timeout): Piscina replaces the thread, and the job
// gets a failed attempt whose message says what happened. The master never sees a throw from here.

// More than the tasks that can be in the pool at once (claims are capped by --batch ≤ 10,000);
// a slot is reused only once its task has settled.
const TASK_SLOTS = 1 << 16;
const MAX_BATCH = 64;
const THREAD_ENTRY = fileURLToPath(new URL('../../workers/job-thread.js', import.meta.url));

export interface ThreadPoolOptions {
  threads: number;
  /** Async jobs in flight per thread. */
  concurrency: number;
  jobsDir: string;
  /** Heap limit per thread, in MB. */
  maxMemoryMb?: number;
  /** TypeScript job files the master compiled: job file → compiled file. */
  compiledJobs?: Record<string, string>;
}

export interface JobExecutor {
  /** Jobs that can run at once. */
  readonly slots: number;
  run(task: JobTask, timeoutMs: number | null): Promise<JobTaskResult>;
  /** From now on, tasks not yet started come back `skipped` instead of running. */
  refuseNewTasks(): void;
  close(): Promise<void>;
}

export class ThreadPool implements JobExecutor {
  readonly slots: number;
  private readonly pool: Piscina;
  private readonly stopFlag = new SharedArrayBuffer(4);
  /** Where each task in the pool stands, written by the threads. */
  private readonly taskSlots = TaskSlots.allocate(TASK_SLOTS);
  /** Slots no task holds: taken when a task is submitted, given back once it has settled. */
  private readonly freeSlots = Array.from({ length: TASK_SLOTS }, (_, i) => TASK_SLOTS - 1 - i);
  private readonly threads: number;
  /** Batches only make sense when a thread runs one job at a time anyway. */
  private readonly batching: boolean;
  private pending: Array<{ task: JobTask; resolve: (r: JobTaskResult) => void }> = [];

  constructor(options: ThreadPoolOptions) {
    this.slots = options.threads * options.concurrency;
    this.threads = options.threads;
    this.batching = options.concurrency === 1;
    const workerData: ThreadData = {
      jobsDir: options.jobsDir,
      stopFlag: this.stopFlag,
      slots: this.taskSlots.buffer,
      slotsEpoch: this.taskSlots.epoch,
      ...(options.compiledJobs ? { compiledJobs: options.compiledJobs } : {}),
    };
    this.pool = new Piscina({
      filename: THREAD_ENTRY,
      minThreads: options.threads,
      maxThreads: options.threads,
      concurrentTasksPerWorker: options.concurrency,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Jobs may keep handles open (sockets, timers): let each thread's event loop run between tasks.
      atomics: 'async',
      workerData,
      ...(options.maxMemoryMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxMemoryMb } } : {}),
    });
    // Thread errors surface as task rejections; the pool-level event must not crash the master.
    this.pool.on('error', () => undefined);
  }

  async run(task: JobTask, timeoutMs: number | null): Promise<JobTaskResult> {
    // Jobs without a time limit, on threads that run one job at a time, may share a message.
    if (timeoutMs === null && this.batching) {
      return new Promise((resolve) => {
        this.pending.push({ task, resolve });
        if (this.pending.length === 1) setImmediate(() => this.flush());
      });
    }
    return this.runOne(task, timeoutMs);
  }

  /**
   * Sends the jobs gathered this turn: one message per job while there are few, batches when
   * many wait (a message costs more than a no-op job), at least two batches per thread so the
   * work still spreads evenly.
   */
  private flush(): void {
    const waiting = this.pending.splice(0);
    const size = waiting.length <= this.threads ? 1 : Math.min(MAX_BATCH, Math.ceil(waiting.length / (this.threads * 2)));
    for (let i = 0; i < waiting.length; i += size) {
      const chunk = waiting.slice(i, i + size);
      if (chunk.length === 1) this.runOne(chunk[0]!.task, null).then(chunk[0]!.resolve);
      else this.runBatch(chunk);
    }
  }

  private async runBatch(chunk: Array<{ task: JobTask; resolve: (r: JobTaskResult) => void }>): Promise<void> {
    const submitted = performance.now();
    const tasks = chunk.map(({ task }) => ({ ...task, startSlot: this.takeSlot() }));
    try {
      const results = (await this.pool.run({ batch: tasks })) as JobTaskResult[];
      for (const [i, { resolve }] of chunk.entries()) resolve(results[i]!);
    } catch (e) {
      // The thread died inside the batch. The job it was running gets the failed attempt;
      // the others go back unrun (those that had finished too: their results died with the
      // thread, so they run again, as jobs of a dead runtime would).
      chunk.forEach(({ resolve }, i) => {
        const phase = this.phaseOf(tasks[i]!.startSlot);
        const wasRunning = phase === Phase.LOADING || phase === Phase.RUNNING;
        resolve(wasRunning ? this.crashResult(tasks[i]!, e, submitted, null) : { ok: false, skipped: true, durationMs: 0, warnings: [] });
      });
    } finally {
      for (const t of tasks) this.giveBackSlot(t.startSlot);
    }
  }

  /** A free slot, marked queued; undefined in the unlikely case that every slot is taken. */
  private takeSlot(): number | undefined {
    const slot = this.freeSlots.pop();
    if (slot !== undefined) this.taskSlots.mark(slot, Phase.QUEUED);
    return slot;
  }

  private giveBackSlot(slot: number | undefined): void {
    if (slot !== undefined) this.freeSlots.push(slot);
  }

  /** A task without a slot counts as running from its submission (the safe side for a limit). */
  private phaseOf(slot: number | undefined): Phase {
    return slot === undefined ? Phase.RUNNING : this.taskSlots.read(slot).phase;
  }

  private async runOne(task: JobTask, timeoutMs: number | null): Promise<JobTaskResult> {
    const submitted = performance.now();
    const slot = this.takeSlot();
    const timeout = timeoutMs ? this.armTimeout(slot, timeoutMs, submitted) : null;
    try {
      return (await this.pool.run({ ...task, startSlot: slot }, timeout ? { signal: timeout.signal } : {})) as JobTaskResult;
    } catch (e) {
      return this.crashResult(task, e, submitted, timeout?.expired() ?? null);
    } finally {
      timeout?.cancel();
      // A thread being terminated might still write its slot for a moment: not reused until it is surely gone.
      if (timeout?.expired()) setTimeout(() => this.giveBackSlot(slot), 1_000).unref();
      else this.giveBackSlot(slot);
    }
  }

  private crashResult(task: JobTask, e: unknown, submitted: number, timedOut: { limitMs: number; loading: boolean } | null): JobTaskResult {
    const err = e as Error;
    const message = !timedOut
      ? describeThreadDeath(err)
      : timedOut.loading
        ? `timed out loading its code after ${formatMs(timedOut.limitMs)}: its thread was terminated`
        : `timed out after ${formatMs(timedOut.limitMs)}: its thread was terminated`;
    return {
      ok: false,
      durationMs: performance.now() - submitted,
      warnings: [],
      errorName: timedOut ? 'JobTimeoutError' : 'ThreadCrashError',
      message,
      detail: timedOut || !err?.stack ? message : `${message}\n${err.stack}`,
      permanent: false,
      final: isFinalFailure(task, false),
    };
  }

  /**
   * A job's time limit counts from when its thread starts running it, not from when it was
   * queued in the pool nor while its code first loads (which has a limit of its own): the thread
   * writes each phase into its slot (`TaskSlots`) and the timer re-arms until the phase's limit is
   * spent. Aborting a running task terminates its thread (Piscina), which is what stops
   * synchronous code.
   */
  private armTimeout(slot: number | undefined, limitMs: number, submitted: number) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | null = null;
    let expired: { limitMs: number; loading: boolean } | null = null;
    const check = () => {
      const { phase, forMs } = slot === undefined ? { phase: Phase.RUNNING, forMs: performance.now() - submitted } : this.taskSlots.read(slot);
      if (phase === Phase.FINISHED) return; // its result is on its way
      if (phase === Phase.QUEUED) {
        timer = setTimeout(check, Math.min(limitMs, 25));
        return;
      }
      const loading = phase === Phase.LOADING;
      const limit = loading ? Math.max(limitMs, LOAD_LIMIT_MS) : limitMs;
      if (forMs >= limit) {
        expired = { limitMs: limit, loading };
        controller.abort();
      } else {
        // While loading, look again within the run's limit: the run may start any moment.
        timer = setTimeout(check, timerMs(loading ? Math.min(limit - forMs, limitMs) : limit - forMs));
      }
    };
    timer = setTimeout(check, timerMs(limitMs));
    return { signal: controller.signal, expired: () => expired, cancel: () => timer && clearTimeout(timer) };
  }

  refuseNewTasks(): void {
    Atomics.store(new Int32Array(this.stopFlag), 0, 1);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** What a job did to end its thread, in words an operator can act on. */
function describeThreadDeath(err: Error | undefined): string {
  const text = err?.message ?? String(err);
  if (/memory limit|heap out of memory/i.test(text)) return `ran out of memory: its worker thread reached its heap limit (${text})`;
  const exit = /worker exited with code:?\s*(-?\d+)/i.exec(text);
  if (exit) return `ended its worker thread with exit code ${exit[1]} (process.exit() in a job ends only its thread)`;
  return `uncaught error in its worker thread: ${text}`;
}
