import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { armJobTimeout } from './job-timeout.js';
import { formatMs } from './logger.js';
import type { JobTask, JobTaskResult, ThreadData, ThreadInput, ThreadReply } from '../execution/thread-protocol.js';
import { LOAD_LIMIT_MS, Phase, TaskSlots } from '../execution/task-slots.js';
import { PreloadBoard } from '../execution/preload-board.js';
import { BatchPlanner } from './batch-planner.js';
import { inFront, OrderedTaskQueue } from './ordered-task-queue.js';
import { PoolWatch } from './pool-watch.js';
import { threadEndResult, type ThreadEnd } from './thread-death.js';

// The Piscina pool that runs jobs. Threads take work from one shared queue when they are free:
// a job is never assigned to a busy thread. Short jobs share a message (batch-planner); a job
// of a batch is taken by its thread only as it starts, so the pool can take back the jobs behind
// one that runs long (pool-watch), and each success is known as it happens. A job can end its
// thread (process.exit, an uncaught error from a timer, running out of heap, a hard timeout):
// Piscina replaces the thread, that job gets a failed attempt saying what happened, and the
// jobs that had finished or not started on it are not affected. The master never sees a throw.

// More than the tasks that can be in the pool at once (claims are capped by --batch ≤ 10,000);
// a slot is reused only once the submission that held it has settled.
const TASK_SLOTS = 1 << 16;
const THREAD_ENTRY = fileURLToPath(new URL('../../workers/job-thread.js', import.meta.url));
const SKIPPED: JobTaskResult = { ok: false, skipped: true, durationMs: 0, warnings: [] };

export interface ThreadPoolOptions {
  threads: number;
  /** Async jobs in flight per thread. */
  concurrency: number;
  jobsDir: string;
  /** Heap limit per thread, in MB. */
  maxMemoryMb?: number;
  /** How long a job's code may take to load (default LOAD_LIMIT_MS). */
  loadLimitMs?: number;
  /** TypeScript job files the master compiled: job file → compiled file. */
  compiledJobs?: Record<string, string>;
  /** Threads send run()'s return value back (outcomes kept, issue 17). */
  keepResults?: boolean;
}

export interface JobExecutor {
  /** Jobs that can run at once. */
  readonly slots: number;
  run(task: JobTask, timeoutMs: number | null): Promise<JobTaskResult>;
  /** From now on, tasks not yet started come back `skipped` instead of running. */
  refuseNewTasks(): void;
  close(): Promise<void>;
}

interface Entry {
  task: JobTask;
  /** Handed to the pool: its order among all jobs. */
  order: number;
  /** Its --timeout: such a job travels alone, under its own timer. */
  timeoutMs: number | null;
  submitted: number;
  slot: number | undefined;
  settled: boolean;
  resolve: (r: JobTaskResult) => void;
}

interface Submission {
  entries: Entry[];
  /** Each entry's slot in this submission (an entry taken back moves to a new one). */
  slots: Array<number | undefined>;
}

export class ThreadPool implements JobExecutor {
  readonly slots: number;
  private readonly pool: Piscina;
  private readonly stopFlag = new SharedArrayBuffer(4);
  private readonly taskSlots = TaskSlots.allocate(TASK_SLOTS);
  private readonly preload = PreloadBoard.allocate();
  /** Slots no submission holds. */
  private readonly freeSlots = Array.from({ length: TASK_SLOTS }, (_, i) => TASK_SLOTS - 1 - i);
  private readonly threads: number;
  /** Batches only make sense when a thread runs one job at a time anyway. */
  private readonly batching: boolean;
  private readonly planner = new BatchPlanner();
  private readonly watch: PoolWatch;
  private readonly inFlight = new Set<Submission>();
  /** Threads the pool terminated, and why: the jobs on them fail with that reason. */
  private readonly ended = new Map<number, ThreadEnd>();
  private pending: Entry[] = [];
  private nextOrder = 0;
  private refusing = false;
  private readonly loadLimitMs: number;

  constructor(options: ThreadPoolOptions) {
    this.slots = options.threads * options.concurrency;
    this.threads = options.threads;
    this.batching = options.concurrency === 1;
    this.loadLimitMs = options.loadLimitMs ?? LOAD_LIMIT_MS;
    const workerData: ThreadData = {
      jobsDir: options.jobsDir,
      stopFlag: this.stopFlag,
      slots: this.taskSlots.buffer,
      slotsEpoch: this.taskSlots.epoch,
      preload: this.preload.buffer,
      preloadEpoch: this.preload.epoch,
      ...(options.compiledJobs ? { compiledJobs: options.compiledJobs } : {}),
      ...(options.keepResults ? { keepResults: true } : {}),
    };
    this.pool = new Piscina({
      filename: THREAD_ENTRY,
      minThreads: options.threads,
      maxThreads: options.threads,
      concurrentTasksPerWorker: options.concurrency,
      idleTimeout: Number.POSITIVE_INFINITY,
      taskQueue: new OrderedTaskQueue(),
      // A task Piscina could not place yet keeps its place at the head of the queue.
      stricterFIFO: true,
      // Jobs may keep handles open (sockets, timers): let each thread's event loop run between tasks.
      atomics: 'async',
      workerData,
      ...(options.maxMemoryMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxMemoryMb } } : {}),
    });
    // Thread errors surface as task rejections; the pool-level event must not crash the master.
    this.pool.on('error', () => undefined);
    this.watch = new PoolWatch(this.taskSlots, this.preload, this.loadLimitMs, {
      inFlight: () => this.inFlight,
      succeeded: (entry, durationMs) => this.resolve(entry as Entry, { ok: true, durationMs, warnings: [] }),
      takenBack: (entries) => this.sendAgain(entries as Entry[]),
      terminate: (threadId, end) => this.terminate(threadId, end),
    });
    // Each thread begins importing the job files as soon as it is up, before any job names one.
    for (let i = 0; i < options.threads; i++) this.pool.run({ warmUp: true } satisfies ThreadInput).catch(() => undefined);
  }

  run(task: JobTask, timeoutMs: number | null): Promise<JobTaskResult> {
    return new Promise((resolve) => {
      const entry: Entry = { task, order: this.nextOrder++, timeoutMs, submitted: performance.now(), slot: undefined, settled: false, resolve };
      if (this.refusing) this.resolve(entry, SKIPPED);
      else if (timeoutMs !== null) this.submit([entry]);
      else {
        // Gathered for a turn: the jobs handed over together are cut into batches together.
        this.pending.push(entry);
        if (this.pending.length === 1) setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.send(this.pending.splice(0), false);
  }

  /** Jobs not started where they were sent go to the front of the queue: they were claimed before anything there. */
  private sendAgain(entries: Entry[]): void {
    this.send(entries, true);
  }

  private send(entries: Entry[], front: boolean): void {
    if (this.refusing) {
      for (const e of entries) this.resolve(e, SKIPPED);
      return;
    }
    const untimed = entries.filter((e) => e.timeoutMs === null);
    for (const e of entries) if (e.timeoutMs !== null) this.submit([e], front);
    const batches = this.batching ? this.planner.cut(untimed, this.threads) : untimed.map((e) => [e]);
    for (const batch of batches) this.submit(batch, front);
  }

  private submit(entries: Entry[], front = false): void {
    const slots = entries.map((e) => (e.slot = this.takeSlot()));
    const timeoutMs = entries[0]!.timeoutMs;
    const sub: Submission = { entries, slots };
    this.inFlight.add(sub);
    const tasks = entries.map((e, i) => ({ ...e.task, startSlot: slots[i] }));
    const input: ThreadInput = tasks.length === 1 ? tasks[0]! : { batch: tasks };
    if (front) inFront(input, entries[0]!.order);
    const timeout = timeoutMs === null ? null : armJobTimeout(this.taskSlots, entries[0]!, timeoutMs, this.loadLimitMs);
    this.pool
      .run(input, timeout ? { signal: timeout.signal } : {})
      .then(
        (reply: ThreadReply) => this.settle(sub, reply, null),
        (e: unknown) => this.settle(sub, null, timeout?.expired() ?? { kind: 'crash', error: e }),
      )
      .finally(() => timeout?.cancel());
    if (entries.length > 1) this.watch.batchSent();
  }

  /** The thread replied (`end` null) or ended (`end` says how). Each entry of the submission is settled or sent again. */
  private settle(sub: Submission, reply: ThreadReply, end: ThreadEnd | null): void {
    this.inFlight.delete(sub);
    const replies = Array.isArray(reply) ? reply : [reply];
    const again: Entry[] = [];
    for (const [i, entry] of sub.entries.entries()) {
      const slot = sub.slots[i];
      // Taken back earlier: it runs from its new submission.
      if (entry.settled || entry.slot !== slot) continue;
      const outcome = this.outcome(entry, slot, end ? null : (replies[i] ?? null), end);
      if (outcome === 'again') again.push(entry);
      else this.resolve(entry, outcome);
    }
    // A thread being terminated might still write its slots for a moment: not reused until it is surely gone.
    if (end) setTimeout(() => this.giveBackSlots(sub.slots), 1_000).unref();
    else this.giveBackSlots(sub.slots);
    if (again.length > 0) this.sendAgain(again);
  }

  /** A job's result from the reply, from its slot, or from how its thread ended; 'again' if it did not start. */
  private outcome(entry: Entry, slot: number | undefined, result: JobTaskResult | null, end: ThreadEnd | null): JobTaskResult | 'again' {
    if (result) return result;
    const state = slot === undefined ? null : this.taskSlots.read(slot);
    if (state?.phase === Phase.SUCCEEDED) return { ok: true, durationMs: state.durationMs, warnings: [] };
    // Not started (the batch ended early, the runtime is stopping, or its thread died first).
    if (slot !== undefined && this.taskSlots.takeBack(slot)) return 'again';
    if (!end) return SKIPPED; // no slot to take it back by: not started, as the reply says
    const verdict = this.verdict(end, state);
    return verdict === 'again' ? 'again' : threadEndResult(entry.task, verdict, performance.now() - entry.submitted);
  }

  /**
   * What a job on a thread that ended gets: its own fault, or, on a thread the pool terminated,
   * the pool's reason; a job whose code was still loading there, for another job's fault, runs
   * again elsewhere (none of its code had run).
   */
  private verdict(end: ThreadEnd, state: ReturnType<TaskSlots['read']> | null): ThreadEnd | 'again' {
    const terminated = state ? this.ended.get(state.threadId) : undefined;
    if (end.kind !== 'crash' || !terminated) return end;
    const loading = state?.phase === Phase.LOADING;
    if (terminated.kind === 'load-timeout') {
      if (loading && state.forMs >= terminated.limitMs) return terminated;
      if (loading) return 'again';
      return { kind: 'terminated', reason: `another job's code froze it while loading (load limit ${formatMs(terminated.limitMs)})` };
    }
    return loading ? 'again' : terminated;
  }

  private resolve(entry: Entry, result: JobTaskResult): void {
    if (entry.settled) return;
    entry.settled = true;
    if (!result.skipped) this.planner.observe(entry.task.handler, result.durationMs, result.ok && result.warnings.length === 0);
    entry.resolve(result);
  }

  private terminate(threadId: number, end: ThreadEnd): void {
    if (this.ended.has(threadId)) return;
    const worker = this.pool.threads.find((t) => t.threadId === threadId);
    if (!worker) return;
    this.ended.set(threadId, end);
    void worker.terminate();
  }

  private takeSlot(): number | undefined {
    const slot = this.freeSlots.pop();
    if (slot !== undefined) this.taskSlots.mark(slot, Phase.QUEUED);
    return slot;
  }

  private giveBackSlots(slots: Array<number | undefined>): void {
    for (const slot of slots) if (slot !== undefined) this.freeSlots.push(slot);
  }

  refuseNewTasks(): void {
    this.refusing = true;
    Atomics.store(new Int32Array(this.stopFlag), 0, 1);
  }

  async close(): Promise<void> {
    this.refusing = true;
    this.watch.close();
    await this.pool.destroy();
  }
}
