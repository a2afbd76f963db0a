import { Job } from 'jobs-runtime';

type Payload = { endpoint: string };

// A flaky API: the first attempt gets a 503, the retry a second later succeeds.
export default class CallSlowApi extends Job<Payload> {
  attempts = 3;
  retryAfter = '+1 second';

  async run({ endpoint }: Payload): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.context?.attempt === 1) throw new Error(`${endpoint} answered 503 Service Unavailable`);
  }
}
