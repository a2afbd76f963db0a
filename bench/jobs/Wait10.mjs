// An I/O-bound job: 10 ms of waiting (as a call to a slow API), no CPU. With --concurrency,
// many run at once per thread: the per-job cost of the runtime and the store at a moderate pace.
import { Job } from 'jobs-runtime';
export default class Wait10 extends Job {
  async run() {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
