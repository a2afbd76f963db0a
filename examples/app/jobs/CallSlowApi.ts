import { Job } from 'jobs-runtime';

type Payload = { endpoint: string; unavailableUntil: number };

// A flaky API: it answers 503 until `unavailableUntil` (epoch ms), so the first attempt fails
// and the retry, a second later, succeeds.
export default class CallSlowApi extends Job<Payload> {
  attempts = 3;
  retryAfter = '+1 second';

  async run({ endpoint, unavailableUntil }: Payload): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (Date.now() < unavailableUntil) throw new Error(`${endpoint} answered 503 Service Unavailable`);
  }
}
