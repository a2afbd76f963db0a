import { Job } from 'jobs-runtime';

type Payload = { kind: string };

export default class NightlyReport extends Job<Payload> {
  // Every runtime that loads this class ticks it; each tick runs once, whatever the number of runtimes.
  static override schedule = { cron: '30 2 * * *', tz: 'Europe/Paris', payload: { kind: 'daily' }, misfire: 'once' as const };
  override attempts = 3;

  async run({ kind }: Payload) {
    // this.context.scheduledAt is the tick this run is for (02:30 Paris time), however late it starts.
    console.log(`${kind} report for ${this.context.scheduledAt.toISOString()}`);
  }
}
