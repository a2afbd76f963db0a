import { schedule, unschedule } from 'jobs-runtime';
import NightlyReport from './jobs/NightlyReport.ts';

// A dynamic schedule: stored, so it survives restarts and every runtime ticks it.
await schedule({ key: 'weekly-digest', cron: '0 8 * * MON', tz: 'America/New_York', job: NightlyReport, payload: { kind: 'weekly' } });
await schedule({ key: 'every-10-s', cron: '*/10 * * * * *', job: NightlyReport, payload: { kind: 'often' } }); // 6 fields: seconds first
const removed = await unschedule('every-10-s'); // true: it existed
console.log(`Scheduled weekly-digest; removed every-10-s: ${removed}`);
