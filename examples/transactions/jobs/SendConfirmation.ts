import { Job } from 'jobs-runtime';

type Payload = { orderId: number };

// The job of the transaction examples: it runs only for an order that committed.
export default class SendConfirmation extends Job<Payload> {
  async run({ orderId }: Payload): Promise<void> {
    console.log(`confirmation for order ${orderId}`);
  }
}
