import { appendFileSync } from 'node:fs';
import { Job } from 'jobs-runtime';
// W2: records how long after its dispatch it started: now − payload.t (both wall-clock ms with
// sub-ms resolution, as the peers' benchmarks measure).
export default class Pickup extends Job<{ t: number; file: string }> {
  run({ t, file }: { t: number; file: string }): void {
    appendFileSync(file, `${performance.timeOrigin + performance.now() - t}\n`);
  }
}
