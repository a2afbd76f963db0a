import Database from 'better-sqlite3';
import SendConfirmation from './jobs/SendConfirmation.ts';

const db = new Database(process.env.JOBS_DATABASE_URL!.replace(/^sqlite:/, ''));

// better-sqlite3's transactions are synchronous: dispatch writes the job (or throws) before it
// returns, so there is nothing to await inside.
const placeOrder = db.transaction((customer: string, paymentFails: boolean) => {
  const order = db.prepare('INSERT INTO orders (customer) VALUES (?)').run(customer);
  void new SendConfirmation().dispatch({ orderId: Number(order.lastInsertRowid) }, { transaction: db });
  if (paymentFails) throw new Error('payment declined'); // rolls back the order and its job
}); // committed when the function returns: the order and its job exist

placeOrder('ann', false);
try {
  placeOrder('bob', true);
} catch (e) {
  console.log(`bob: ${(e as Error).message}, no order, no job`);
}
