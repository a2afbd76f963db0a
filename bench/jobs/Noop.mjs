// W1 / W5: the cheapest job there is. Plain JavaScript, as a compiled app deploys its jobs
// (TypeScript job files cost the same once compiled by the master: bench/ts-jobs, W5's .ts line).
import { Job } from 'jobs-runtime';
export default class Noop extends Job {
  run() {}
}
