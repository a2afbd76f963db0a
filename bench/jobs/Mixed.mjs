// W6: waits payload.ms (async, no CPU: a cache refresh, a report waiting on a slow service), then
// appends "<n> <start> <end>" (wall-clock ms, sub-ms resolution) to payload.file, one write with
// O_APPEND so lines from several threads never interleave. The bench derives the ideal pool's
// wall time and the overtaken jobs from these lines.
import { appendFileSync } from 'node:fs';
import { Job } from 'jobs-runtime';
const clock = () => performance.timeOrigin + performance.now();
export default class Mixed extends Job {
  async run({ n, ms, file }) {
    const start = clock();
    await new Promise((resolve) => setTimeout(resolve, ms));
    appendFileSync(file, `${n} ${start} ${clock()}\n`);
  }
}
