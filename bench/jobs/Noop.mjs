// W1 / W5: the cheapest job there is. Plain JavaScript, as a compiled app deploys its jobs
// (TypeScript job files work too, at the cost of the TypeScript loader in every thread).
import { Job } from 'jobs-runtime';
export default class Noop extends Job {
  run() {}
}
