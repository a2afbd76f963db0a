// W5's TypeScript line: the no-op job as a TypeScript file, as the README teaches. The master
// compiles it once; the threads import the JavaScript.
import { Job } from 'jobs-runtime';
export default class Noop extends Job {
  run(): void {}
}
