import { Job } from 'jobs-runtime';

type Payload = { to: string; message: string };

// Sends a (pretend) mail. A missing address fails at once: no retry can fix it.
export default class SendMail extends Job<Payload> {
  queue = 'emails';
  attempts = 3;
  retryAfter = '+1 second';

  async run(payload: Payload): Promise<void> {
    if (!payload.to) this.failPermanently('Recipient email address is missing');
    await new Promise((resolve) => setTimeout(resolve, 5)); // the SMTP round trip
  }
}
