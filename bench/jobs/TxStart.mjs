// Transaction bench: records when it started, by job id, for the commit-to-start latency
// (wall-clock ms with sub-ms resolution, as the bench's own clock).
import { appendFileSync } from 'node:fs';
import { Job } from 'jobs-runtime';
export default class TxStart extends Job {
  run({ file }) {
    appendFileSync(file, `${this.context.id} ${performance.timeOrigin + performance.now()}\n`);
  }
}
