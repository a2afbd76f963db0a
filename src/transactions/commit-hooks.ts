// Seeing the application's commit, so runtimes are woken once the job can be claimed and not
// before (an uncommitted row is invisible to claims: a wake-up then is wasted). Each hook calls
// back once after a commit and drops its callbacks after a rollback; none changes what the
// library does, and each wrapper removes itself when the transaction ends.

/** Registers a callback for after the commit (never called after a rollback). */
export type CommitHook = (afterCommit: () => void) => void;

// biome-ignore lint/suspicious/noExplicitAny: the libraries' own objects, read by shape.
type Loose = any;

/** Knex: the transaction's own promise settles when it commits (fulfilled) or rolls back (rejected). */
export function hookKnex(trx: Loose): CommitHook {
  return (afterCommit) => {
    (trx.executionPromise as Promise<unknown>).then(afterCommit, () => undefined);
  };
}

const pending = new WeakMap<object, Array<() => void>>();

/**
 * mysql2 (and Drizzle, which runs on it): wraps the connection's commit() and rollback(), and
 * its query()/execute() for a COMMIT or ROLLBACK statement (Drizzle commits that way), until the
 * transaction ends; then the connection's own methods are back.
 */
export function hookMysql2(conn: Loose): CommitHook {
  return (afterCommit) => {
    const waiting = pending.get(conn);
    if (waiting) return void waiting.push(afterCommit);
    const callbacks = [afterCommit];
    pending.set(conn, callbacks);
    const own = ['commit', 'rollback', 'query', 'execute'].filter((m) => Object.hasOwn(conn, m));
    const original = { commit: conn.commit, rollback: conn.rollback, query: conn.query, execute: conn.execute };
    const end = (committed: boolean) => {
      for (const m of ['commit', 'rollback', 'query', 'execute'] as const) {
        if (own.includes(m)) conn[m] = original[m];
        else delete conn[m];
      }
      pending.delete(conn);
      if (committed) for (const cb of callbacks) cb();
    };
    const after = (committed: boolean) => (r: unknown) => {
      end(committed);
      return r;
    };
    conn.commit = (...a: unknown[]) => original.commit.apply(conn, a).then(after(true));
    conn.rollback = (...a: unknown[]) => original.rollback.apply(conn, a).then(after(false));
    for (const m of ['query', 'execute'] as const) {
      conn[m] = (...a: unknown[]) => {
        const sql = typeof a[0] === 'string' ? a[0] : (a[0] as { sql?: unknown } | undefined)?.sql;
        const word = typeof sql === 'string' ? /^\s*(commit|rollback)\b/i.exec(sql)?.[1]?.toLowerCase() : undefined;
        const r = original[m].apply(conn, a);
        return word ? r.then(after(word === 'commit')) : r;
      };
    }
  };
}

/** TypeORM: the QueryRunner's commitTransaction() and rollbackTransaction(), wrapped until one runs. */
export function hookTypeOrm(runner: Loose): CommitHook {
  return (afterCommit) => {
    const waiting = pending.get(runner);
    if (waiting) return void waiting.push(afterCommit);
    const callbacks = [afterCommit];
    pending.set(runner, callbacks);
    const commit = runner.commitTransaction;
    const rollback = runner.rollbackTransaction;
    const end = (committed: boolean) => {
      delete runner.commitTransaction;
      delete runner.rollbackTransaction;
      pending.delete(runner);
      if (committed) for (const cb of callbacks) cb();
    };
    runner.commitTransaction = async (...a: unknown[]) => {
      const r = await commit.apply(runner, a);
      // A nested (savepoint) commit leaves the outer transaction open.
      if (!runner.isTransactionActive) end(true);
      return r;
    };
    runner.rollbackTransaction = async (...a: unknown[]) => {
      const r = await rollback.apply(runner, a);
      if (!runner.isTransactionActive) end(false);
      return r;
    };
  };
}

/**
 * Where no commit can be seen (Kysely, Prisma, better-sqlite3): asks `committed` (true: it
 * committed; null: it rolled back; false: not yet) with a growing
 * pause (1 ms, doubling to 100 ms) until it says yes or `giveUpMs` passes (rolled back, or
 * still open: the runtime's own poll finds the job then). Timers are unref'd: a script that
 * dispatched may exit.
 */
export function watchCommit(committed: () => Promise<boolean | null> | boolean | null, afterCommit: () => void, giveUpMs = 30_000): void {
  const start = Date.now();
  let pause = 1;
  const look = async () => {
    let yes: boolean | null = false;
    try {
      yes = await committed();
    } catch {
      return; // the store is unreachable: the runtimes' poll will find the job
    }
    if (yes === null) return; // known rolled back
    if (yes) return afterCommit();
    if (Date.now() - start > giveUpMs) return;
    pause = Math.min(pause * 2, 100);
    setTimeout(look, pause).unref();
  };
  setTimeout(look, pause).unref();
}
