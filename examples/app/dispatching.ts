import SendMail from './jobs/SendMail.ts';

const id = await new SendMail().dispatch({ to: 'bob@example.com', message: 'Hello Bob' });
await new SendMail().dispatch({ to: 'ann@example.com', message: 'Hi Ann' }, { delay: '+1 hour', queue: 'urgent' }); // per-dispatch overrides
const ids = await SendMail.dispatchMany([
  { to: 'a@example.com', message: 'A' },
  { to: 'b@example.com', message: 'B' },
]); // one transaction, ids in order
console.log(`Dispatched ${id}, then ${ids.join(' and ')}`);
