import { Job } from 'jobs-runtime';
// W1 / W5: the cheapest job there is.
export default class Noop extends Job {
  run(): void {}
}
