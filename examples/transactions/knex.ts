import createKnex from 'knex';
import SendConfirmation from './jobs/SendConfirmation.ts';

const knex = createKnex({ client: 'mysql2', connection: process.env.JOBS_DATABASE_URL });

async function placeOrder(customer: string, paymentFails = false): Promise<void> {
  await knex.transaction(async (trx) => {
    const [orderId] = await trx('orders').insert({ customer });
    await new SendConfirmation().dispatch({ orderId: orderId! }, { transaction: trx });
    if (paymentFails) throw new Error('payment declined'); // rolls back the order and its job
  }); // committed: the order and its job exist, and idle runtimes are woken
}

await placeOrder('ann');
await placeOrder('bob', true).catch((e) => console.log(`bob: ${e.message}, no order, no job`));
await knex.destroy();
