import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kysely, MysqlDialect } from 'kysely';
import knexFactory from 'knex';
import mysql from 'mysql2/promise';
import { createPool } from 'mysql2';
import { drizzle } from 'drizzle-orm/mysql2';
import { sql as dsql } from 'drizzle-orm';
import { DataSource } from 'typeorm';

// Each supported library's transaction, driven the same way: `transact(body, { rollback })` opens
// one on the library's own connections, gives `body` the transaction object and a function that
// inserts an order row in it, then commits (or, with rollback, rolls back by throwing).

export interface TxLibrary {
  name: string;
  transact(body: (trx: unknown, insertOrder: (label: string) => Promise<number>) => Promise<void>, o?: { rollback?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export class RollBack extends Error {}

const PRISMA_SCHEMA = fileURLToPath(new URL('../fixtures/prisma/schema.prisma', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Generates a Prisma client: no engine is downloaded (the schema engine, which generate does not use, is pointed at a stub). */
export function generatePrisma(schema = PRISMA_SCHEMA): void {
  execFileSync(process.execPath, ['node_modules/prisma/build/index.js', 'generate', '--schema', schema], {
    cwd: REPO,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    stdio: 'pipe',
  });
}

async function wrap(rollback: boolean | undefined, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (!(rollback && e instanceof RollBack)) throw e;
  }
}

/** The part of the generated Prisma client the tests use. */
interface PrismaTx {
  order: { create(args: { data: { label: string } }): Promise<{ id: number }> };
}
interface PrismaLike {
  $transaction<T>(fn: (tx: PrismaTx) => Promise<T>): Promise<T>;
  $disconnect(): Promise<void>;
}

export async function txLibraries(url: string): Promise<TxLibrary[]> {
  const pool = mysql.createPool({ uri: url, connectionLimit: 10 });
  const knex = knexFactory({ client: 'mysql2', connection: url, pool: { min: 0, max: 10 } });
  const kysely = new Kysely<{ tx_orders: { id: import('kysely').Generated<number>; label: string } }>({
    dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 10 }) }),
  });
  const drizzlePool = mysql.createPool({ uri: url, connectionLimit: 10 });
  const db = drizzle(drizzlePool);
  const typeorm = new DataSource({ type: 'mysql', url, extra: { connectionLimit: 10 } });
  await typeorm.initialize();
  generatePrisma();
  // Generated at test time (gitignored): imported by a path tsc does not follow, with the part
  // of its type the tests use, so `npm run lint` passes on a fresh clone.
  const generated = '../fixtures/prisma/generated/client.ts';
  const { PrismaClient } = (await import(generated)) as { PrismaClient: new (o: { adapter: unknown }) => PrismaLike };
  const { PrismaMariaDb } = await import('@prisma/adapter-mariadb');
  const prisma = new PrismaClient({ adapter: new PrismaMariaDb(url.replace(/^mysql:/, 'mariadb:')) });
  const fail = () => {
    throw new RollBack('roll back');
  };
  return [
    {
      name: 'mysql2',
      async transact(body, o = {}) {
        const conn = await pool.getConnection();
        try {
          await conn.beginTransaction();
          await wrap(o.rollback, async () => {
            try {
              await body(conn, async (label) => {
                const [r] = await conn.query<mysql.ResultSetHeader>('INSERT INTO tx_orders (label) VALUES (?)', [label]);
                return r.insertId;
              });
            } catch (e) {
              await conn.rollback();
              throw e;
            }
            await (o.rollback ? conn.rollback() : conn.commit());
          });
        } finally {
          conn.release();
        }
      },
      close: () => pool.end(),
    },
    {
      name: 'Knex',
      transact: (body, o = {}) =>
        wrap(o.rollback, () =>
          knex.transaction(async (trx) => {
            await body(trx, async (label) => (await trx('tx_orders').insert({ label }))[0]!);
            if (o.rollback) fail();
          }),
        ),
      close: () => knex.destroy(),
    },
    {
      name: 'Kysely',
      transact: (body, o = {}) =>
        wrap(o.rollback, () =>
          kysely.transaction().execute(async (trx) => {
            await body(trx, async (label) => Number((await trx.insertInto('tx_orders').values({ label }).executeTakeFirstOrThrow()).insertId));
            if (o.rollback) fail();
          }),
        ),
      close: () => kysely.destroy(),
    },
    {
      name: 'Drizzle',
      transact: (body, o = {}) =>
        wrap(o.rollback, () =>
          db.transaction(async (tx) => {
            await body(tx, async (label) => {
              const [r] = (await tx.execute(dsql`INSERT INTO tx_orders (label) VALUES (${label})`)) as unknown as [mysql.ResultSetHeader];
              return r.insertId;
            });
            if (o.rollback) fail();
          }),
        ),
      close: () => drizzlePool.end(),
    },
    {
      name: 'Prisma',
      transact: (body, o = {}) =>
        wrap(o.rollback, () =>
          prisma.$transaction(async (tx: PrismaTx) => {
            await body(tx, async (label) => (await tx.order.create({ data: { label } })).id);
            if (o.rollback) fail();
          }),
        ),
      close: () => prisma.$disconnect(),
    },
    {
      name: 'TypeORM',
      transact: (body, o = {}) =>
        wrap(o.rollback, () =>
          typeorm.transaction(async (manager) => {
            await body(manager, async (label) => Number((await manager.query('INSERT INTO tx_orders (label) VALUES (?)', [label])).insertId));
            if (o.rollback) fail();
          }),
        ),
      close: () => typeorm.destroy(),
    },
  ];
}
