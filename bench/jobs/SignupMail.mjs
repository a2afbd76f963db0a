// W7: the job a web request dispatches. Records the request's id, one line per run, so the bench
// can check that every answered request ran exactly once.
import { appendFileSync } from 'node:fs';
import { Job } from 'jobs-runtime';
export default class SignupMail extends Job {
  run({ requestId, file }) {
    appendFileSync(file, `${requestId}\n`);
  }
}
