import { Job, type RateLimit } from 'jobs-runtime';

type Payload = { accountId: string };

// Pushes one account to a partner's CRM, whose API allows 4 calls at once and 100 a minute.
export default class SyncAccount extends Job<Payload> {
  override priority = 10; // background work: after jobs of the default priority 0
  override unique = { key: (p: Payload) => p.accountId, for: '10 minutes' }; // one sync per account waits or runs
  override concurrencyLimit = { limit: 4, key: 'crm-api' }; // at most 4 running at once, all hosts
  rateLimit = { limit: 100, per: '1 minute', key: 'crm-api' } satisfies RateLimit<Payload>; // at most 100 starts a minute
  override attempts = 5;
  override retryAfter = { exponential: '2 seconds', max: '1 hour', jitter: true }; // 1–2 s, 2–4 s, 4–8 s, …

  async run({ accountId }: Payload): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20)); // the partner's API call for accountId
    if (accountId === '') this.failPermanently('No account id');
  }
}
