import SyncAccount from './jobs/SyncAccount.ts';

const first = await new SyncAccount().dispatchWithResult({ accountId: 'acme' });
const again = await new SyncAccount().dispatchWithResult({ accountId: 'acme' }); // acme's sync still waits
const urgent = await new SyncAccount().dispatch({ accountId: 'globex' }, { priority: -100 }); // per-dispatch override
console.log(`acme: job ${first.id}; again: ${again.duplicate ? `duplicate of job ${again.id}` : `job ${again.id}`}; globex: job ${urgent}`);
