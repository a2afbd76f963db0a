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

const MYSQL2_WRAPPED = ['commit', 'rollback', 'query', 'execute', 'release', 'end', 'destroy'] as const;

/**
 * mysql2 (and Drizzle, which runs on it): wraps the connection's commit() and rollback(), and
 * its query()/execute() for a COMMIT or ROLLBACK statement (Drizzle commits that way), until the
 * transaction ends; then the connection's own methods are back. They are back on every path:
 * a commit or rollback that fails (no wake-up then: if the commit did happen, a poll finds the
 * job), and a connection released, ended or destroyed with the transaction still open.
 */
export function hookMysql2(conn: Loose): CommitHook {
  return (afterCommit) => {
    const waiting = pending.get(conn);
    if (waiting) return void waiting.push(afterCommit);
    const callbacks = [afterCommit];
    pending.set(conn, callbacks);
    const methods = MYSQL2_WRAPPED.filter((m) => typeof conn[m] === 'function');
    const own = methods.filter((m) => Object.hasOwn(conn, m));
    const original: Record<string, Loose> = Object.fromEntries(methods.map((m) => [m, conn[m]]));
    let ended = false;
    const end = (committed: boolean) => {
      if (ended) return;
      ended = true;
      for (const m of methods) {
        if (own.includes(m)) conn[m] = original[m];
        else delete conn[m];
      }
      pending.delete(conn);
      if (committed) for (const cb of callbacks) cb();
    };
    // Settles the hook when `r` (a commit's or rollback's promise) settles; passes r on unchanged.
    const settle = (r: Promise<unknown>, committed: boolean) =>
      r.then(
        (v) => {
          end(committed);
          return v;
        },
        (e) => {
          end(false);
          throw e;
        },
      );
    conn.commit = (...a: unknown[]) => settle(original.commit.apply(conn, a), true);
    conn.rollback = (...a: unknown[]) => settle(original.rollback.apply(conn, a), false);
    for (const m of ['query', 'execute'] as const) {
      conn[m] = (...a: unknown[]) => {
        const sql = typeof a[0] === 'string' ? a[0] : (a[0] as { sql?: unknown } | undefined)?.sql;
        const word = typeof sql === 'string' ? /^\s*(commit|rollback)\b/i.exec(sql)?.[1]?.toLowerCase() : undefined;
        const r = original[m].apply(conn, a);
        return word ? settle(r, word === 'commit') : r;
      };
    }
    for (const m of ['release', 'end', 'destroy'] as const) {
      if (!methods.includes(m)) continue;
      conn[m] = (...a: unknown[]) => {
        end(false);
        return original[m].apply(conn, a);
      };
    }
  };
}

/**
 * TypeORM: the QueryRunner's commitTransaction() and rollbackTransaction(), wrapped until one
 * ends the transaction, fails (no wake-up then), or the runner is released with it still open.
 */
export function hookTypeOrm(runner: Loose): CommitHook {
  return (afterCommit) => {
    const waiting = pending.get(runner);
    if (waiting) return void waiting.push(afterCommit);
    const callbacks = [afterCommit];
    pending.set(runner, callbacks);
    const methods = ['commitTransaction', 'rollbackTransaction', 'release'].filter((m) => typeof runner[m] === 'function');
    const own = methods.filter((m) => Object.hasOwn(runner, m));
    const original: Record<string, Loose> = Object.fromEntries(methods.map((m) => [m, runner[m]]));
    let ended = false;
    const end = (committed: boolean) => {
      if (ended) return;
      ended = true;
      for (const m of methods) {
        if (own.includes(m)) runner[m] = original[m];
        else delete runner[m];
      }
      pending.delete(runner);
      if (committed) for (const cb of callbacks) cb();
    };
    const wrap =
      (m: 'commitTransaction' | 'rollbackTransaction', committed: boolean) =>
      async (...a: unknown[]) => {
        let r: unknown;
        try {
          r = await original[m].apply(runner, a);
        } catch (e) {
          end(false);
          throw e;
        }
        // A nested (savepoint) commit or rollback leaves the outer transaction open.
        if (!runner.isTransactionActive) end(committed);
        return r;
      };
    runner.commitTransaction = wrap('commitTransaction', true);
    runner.rollbackTransaction = wrap('rollbackTransaction', false);
    if (methods.includes('release')) {
      runner.release = (...a: unknown[]) => {
        end(false);
        return original.release.apply(runner, a);
      };
    }
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
