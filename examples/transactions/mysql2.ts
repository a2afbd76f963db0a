import mysql from 'mysql2/promise';
import SendConfirmation from './jobs/SendConfirmation.ts';

const pool = mysql.createPool(process.env.JOBS_DATABASE_URL!);

async function placeOrder(customer: string, paymentFails = false): Promise<void> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const [order] = await conn.query<mysql.ResultSetHeader>('INSERT INTO orders (customer) VALUES (?)', [customer]);
    await new SendConfirmation().dispatch({ orderId: order.insertId }, { transaction: conn });
    if (paymentFails) throw new Error('payment declined');
    await conn.commit(); // the order and its job exist, and idle runtimes are woken
  } catch (e) {
    await conn.rollback(); // neither exists
    throw e;
  } finally {
    conn.release();
  }
}

await placeOrder('ann');
await placeOrder('bob', true).catch((e) => console.log(`bob: ${e.message}, no order, no job`));
await pool.end();
