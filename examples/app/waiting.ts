import { jobEvents, waitFor } from 'jobs-runtime';
import ResizeImage from './jobs/ResizeImage.ts';

const id = await new ResizeImage().dispatch({ width: 640, height: 480 });
const outcome = await waitFor(id, { timeout: '10 seconds' }); // rejects with JobWaitTimeoutError if not done by then
console.log(`Job ${id}: ${outcome.status} after ${outcome.attempts} attempt(s), result ${JSON.stringify(outcome.result)}`);

// Every runtime's events, from any process; `since: '0'` starts at the oldest kept, `since: event.id` resumes.
for await (const event of jobEvents({ queues: ['images'], since: '0' })) {
  console.log(`${event.type}: job ${event.jobId} (${event.handler}, attempt ${event.attempt}, ${event.durationMs} ms)`);
  if (event.jobId === id) break;
}
