// Dispatches a mix of example jobs, as a web app would: `node --import tsx dispatch-demo.ts 300`.
import SendMail from './jobs/SendMail.ts';
import ResizeImage from './jobs/ResizeImage.ts';
import CallSlowApi from './jobs/CallSlowApi.ts';

const total = Number(process.argv[2] ?? 300);
if (!Number.isInteger(total) || total < 1) throw new RangeError(`usage: dispatch-demo.ts <count>, got '${process.argv[2]}'`);

const mails = Array.from({ length: Math.round(total * 0.7) }, (_, i) => ({
  // Every 50th mail has no recipient: it fails at once, with no retry.
  to: i % 50 === 49 ? '' : `user${i}@example.com`,
  message: `Hello #${i}`,
}));
const images = Array.from({ length: Math.round(total * 0.2) }, (_, i) => ({ width: 200 + i, height: 200 }));
const apiCalls = total - mails.length - images.length;

const started = performance.now();
const ids = [...(await SendMail.dispatchMany(mails)), ...(await ResizeImage.dispatchMany(images))];
// Single dispatches, as from an HTTP request handler.
for (let i = 0; i < apiCalls; i++) {
  ids.push(await new CallSlowApi().dispatch({ endpoint: `https://api.example.com/v1/items/${i}` }));
}
// A reminder for tomorrow: it stays waiting (delayed) after this demo's run.
ids.push(await new SendMail().dispatch({ to: 'bob@example.com', message: 'Reminder' }, { delay: '+1 day' }));
console.log(`Dispatched ${ids.length} jobs (ids ${ids[0]}–${ids.at(-1)}) in ${Math.round(performance.now() - started)} ms`);
