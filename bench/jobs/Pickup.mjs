// W2: records how long after its dispatch it started: now − payload.t (both wall-clock ms with
// sub-ms resolution, as the peers' benchmarks measure).
import { appendFileSync } from 'node:fs';
import { Job } from 'jobs-runtime';
export default class Pickup extends Job {
  run({ t, file }) {
    appendFileSync(file, `${performance.timeOrigin + performance.now() - t}\n`);
  }
}
