import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaClient } from './prisma/generated/client.ts'; // prisma generate --schema prisma/schema.prisma
import SendConfirmation from './jobs/SendConfirmation.ts';

const prisma = new PrismaClient({ adapter: new PrismaMariaDb(process.env.JOBS_DATABASE_URL!.replace(/^mysql:/, 'mariadb:')) });

async function placeOrder(customer: string, paymentFails = false): Promise<void> {
  // The interactive form: `tx` is the transaction's client (the array form has none to pass).
  await prisma.$transaction(async (tx) => {
    const order = await tx.order.create({ data: { customer } });
    await new SendConfirmation().dispatch({ orderId: order.id }, { transaction: tx });
    if (paymentFails) throw new Error('payment declined'); // rolls back the order and its job
  }); // committed: the order and its job exist
}

await placeOrder('ann');
await placeOrder('bob', true).catch((e) => console.log(`bob: ${e.message}, no order, no job`));
await prisma.$disconnect();
