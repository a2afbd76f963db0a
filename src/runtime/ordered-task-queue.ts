import { FixedQueue, Piscina, type TaskQueue } from 'piscina';

type Task = Parameters<TaskQueue['push']>[0];

// Piscina's queue of tasks no thread has taken yet, shared by all threads: a thread takes the
// next one when it is free. Jobs the pool takes back from a batch stuck behind a long job were
// claimed before anything queued here, so they go in front, in claim order.

export interface QueueOptions {
  /** Claim order of the task's first job. */
  front: number;
}

/** Marks a task (the object given to `pool.run`) for the front lane; symbols do not travel to the thread. */
export function inFront<T extends object>(task: T, order: number): T {
  return Object.assign(task, { [Piscina.queueOptionsSymbol]: { front: order } satisfies QueueOptions });
}

export class OrderedTaskQueue implements TaskQueue {
  private readonly front: Task[] = [];
  private readonly rest = new FixedQueue();

  get size(): number {
    return this.front.length + this.rest.size;
  }

  push(task: Task): void {
    const order = frontOrder(task);
    if (order === undefined) {
      this.rest.push(task);
      return;
    }
    let i = this.front.length;
    while (i > 0 && (frontOrder(this.front[i - 1]!) ?? -1) > order) i--;
    this.front.splice(i, 0, task);
  }

  /** A task Piscina took but could not place goes back where it was: first. */
  unshift(task: Task): void {
    this.front.unshift(task);
  }

  shift(): Task | null {
    return this.front.shift() ?? this.rest.shift();
  }

  remove(task: Task): void {
    const i = this.front.indexOf(task);
    if (i >= 0) this.front.splice(i, 1);
    else this.rest.remove(task);
  }
}

function frontOrder(task: Task): number | undefined {
  return ((task as unknown as Record<symbol, unknown>)[Piscina.queueOptionsSymbol] as QueueOptions | null)?.front;
}
