import type { Connection, RowDataPacket } from 'mysql2/promise';
import { newClaimToken } from '../claim-token.js';
import type { ClaimedJob } from '../store.js';
import type { ForeignJobs } from './foreign-rows.js';
import { selectDueArgs, selectDueSql, selectPrioritiesArgs, selectPrioritiesSql, takeSql } from './claim-sql.js';

// One claim, one transaction: per queue (in order) the priorities that have due jobs, then per
// priority the due rows in (scheduled_at, id) order, locked; flow control decides on each
// candidate under the locks of its keys; the UPDATEs by id go with the next round trip (or the
// COMMIT). Plain jobs, one priority, priority guessed right: two round trips, as before
// priorities existed (BEGIN + the priorities + the guessed priority's rows; UPDATE + COMMIT).

interface Stmt {
  sql: string;
  args: unknown[];
}

/** Claims that took jobs with a concurrency key get a token starting with this (not a hex digit). */
const KEYED_MARK = 'k';

/**
 * True when the claim that made `token` took jobs with a concurrency key: the writes that end
 * such a claim (record, release) must free slots and unblock, the others skip that work and
 * keep their single round trip.
 */
export function isKeyedToken(token: string): boolean {
  return token.startsWith(KEYED_MARK);
}

/** Passes over the queue at most: a claim whose candidates limits held back looks further, boundedly. */
const MAX_PASSES = 4;

export class MySqlClaim {
  private readonly token = newClaimToken();
  private readonly keyedToken = KEYED_MARK + this.token.slice(1);
  private begun = false;
  private pending: Stmt[] = [];
  private readonly taken: Array<{ row: RowDataPacket; token: string }> = [];
  /** Due priorities per queue ('' stands for all queues: real names are never empty here). */
  private readonly priorities = new Map<string, number[]>();
  private readonly prefetched = new Map<string, { rows: RowDataPacket[]; asked: number }>();
  private readonly exhausted = new Set<string>();
  /** Per concurrency key, under its lock: jobs processing (only records lower it meanwhile) and taken here. */
  private readonly conc = new Map<string, { running: number; taken: number }>();
  /** Per rate key and window, under its lock. */
  private readonly rates = new Map<string, { key: string; start: number; end: number; starts: number; taken: number }>();
  /** The store's clock as last read under the rate locks. */
  private rateNowMs: number | null = null;

  constructor(
    private readonly conn: Connection,
    private readonly table: string,
    private readonly owner: string,
    private readonly queues: string[] | null,
    private readonly limit: number,
    /** The lowest due priority each queue had at its last claim: the first read guesses it. */
    private readonly guesses: Map<string, number>,
    /** Rows of PHP workers, never taken. */
    private readonly foreign: ForeignJobs,
  ) {}

  /** True once BEGIN was sent: the caller rolls back on failure. */
  get inTransaction(): boolean {
    return this.begun;
  }

  async run(): Promise<ClaimedJob[]> {
    for (let pass = 0; pass < MAX_PASSES && this.taken.length < this.limit; pass++) {
      const candidates = await this.candidates(this.limit - this.taken.length);
      if (candidates.length === 0 || (await this.decide(candidates)) === 0) break;
    }
    const increments = [...this.rates.values()].filter((r) => r.taken > 0);
    for (const r of increments) {
      this.pending.push({ sql: `UPDATE ${this.table}_rates SET starts = starts + ? WHERE rate_key = ? AND window_start = ?`, args: [r.taken, r.key, r.start] });
    }
    await this.send([{ sql: 'COMMIT', args: [] }]);
    return this.taken.map(({ row, token }) => toClaimed(row, token, false));
  }

  /** Up to `want` due candidates in claim order: queues in order, then priority, due time, id. */
  private async candidates(want: number): Promise<RowDataPacket[]> {
    const out: RowDataPacket[] = [];
    for (const queue of this.queues ?? [null]) {
      if (out.length >= want) break;
      const qk = queue ?? '';
      const priorities = this.priorities.get(qk) ?? (await this.loadPriorities(queue, want - out.length));
      for (const p of priorities) {
        const need = want - out.length;
        if (need <= 0) break;
        const k = `${qk}\n${p}`;
        if (this.exhausted.has(k)) continue;
        let got = this.prefetched.get(k);
        this.prefetched.delete(k);
        if (!got) {
          const [rows] = await this.send([{ sql: selectDueSql(this.table, queue !== null, this.foreign), args: selectDueArgs(queue, p, need, this.foreign) }]);
          got = { rows: rows as RowDataPacket[], asked: need };
        }
        if (got.rows.length < got.asked) this.exhausted.add(k);
        out.push(...got.rows.slice(0, need));
      }
    }
    return out;
  }

  /** The queue's due priorities, read with the guessed priority's rows in the same round trip. */
  private async loadPriorities(queue: string | null, need: number): Promise<number[]> {
    const qk = queue ?? '';
    const guess = this.guesses.get(qk) ?? 0;
    const [found, guessed] = (await this.send([
      { sql: selectPrioritiesSql(this.table, queue !== null), args: selectPrioritiesArgs(queue) },
      { sql: selectDueSql(this.table, queue !== null, this.foreign), args: selectDueArgs(queue, guess, need, this.foreign) },
    ])) as RowDataPacket[][];
    const priorities = found!.map((r) => Number(r.priority));
    // A job of the guessed priority that became due between the two statements is still a candidate.
    if (guessed!.length > 0 && !priorities.includes(guess)) priorities.push(guess);
    priorities.sort((a, b) => a - b);
    this.prefetched.set(`${qk}\n${guess}`, { rows: guessed!, asked: need });
    if (priorities.length > 0) this.guesses.set(qk, priorities[0]!);
    this.priorities.set(qk, priorities);
    return priorities;
  }

  /**
   * Takes, blocks or defers each candidate (claim order); the writes go with the next round trip.
   * Returns how many limits held back.
   */
  private async decide(candidates: RowDataPacket[]): Promise<number> {
    const keyed = candidates.filter((c) => c.concurrency_key !== null || c.rate_key !== null);
    if (keyed.length > 0) await this.lockKeys(keyed);
    const take: number[] = [];
    const takeKeyed: number[] = [];
    const block: number[] = [];
    let held = 0;
    for (const c of candidates) {
      const id = Number(c.id);
      const slot = c.concurrency_key === null ? null : this.conc.get(String(c.concurrency_key))!;
      if (slot && slot.running + slot.taken >= Number(c.concurrency_limit)) {
        block.push(id);
        held++;
        continue;
      }
      const window = c.rate_key === null ? null : this.rates.get(windowKey(String(c.rate_key), this.windowOf(c).start));
      if (window === undefined) {
        held++; // its window is not locked (the clock passed two windows meanwhile): left for the next claim
        continue;
      }
      if (window && window.starts + window.taken >= Number(c.rate_limit)) {
        // Deferred to its key's next window, spread so the deferred do not all start at once.
        const perMs = Number(c.rate_per_ms);
        const at = window.end + Math.floor(Math.random() * (Math.min(perMs / 10, 1000) + 1));
        this.pending.push({
          sql: `UPDATE ${this.table} SET scheduled_at = FROM_UNIXTIME(0) + INTERVAL ? MICROSECOND, rate_deferred = 1 WHERE id = ?`,
          args: [at * 1000, id],
        });
        held++;
        continue;
      }
      if (slot) slot.taken++;
      if (window) window.taken++;
      const token = slot ? this.keyedToken : this.token;
      (slot ? takeKeyed : take).push(id);
      this.taken.push({ row: c, token });
    }
    if (take.length > 0) this.pending.push({ sql: takeSql(this.table), args: [this.owner, this.token, take] });
    if (takeKeyed.length > 0) this.pending.push({ sql: takeSql(this.table), args: [this.owner, this.keyedToken, takeKeyed] });
    if (block.length > 0) this.pending.push({ sql: `UPDATE ${this.table} SET status = 'blocked' WHERE id IN (?)`, args: [block] });
    return held;
  }

  /**
   * Locks the keys not yet locked by this claim (sorted, so two claims lock in the same order) and
   * reads their state: processing jobs per concurrency key (a fresh read-committed read, taken
   * after the lock, so it sees every claim of the key that committed before), starts per rate window.
   */
  private async lockKeys(keyed: RowDataPacket[], depth = 0): Promise<void> {
    const t = this.table;
    const concKeys = [...new Set(keyed.filter((c) => c.concurrency_key !== null).map((c) => String(c.concurrency_key)))]
      .filter((k) => !this.conc.has(k))
      .sort();
    const windows = new Map<string, { key: string; start: number; end: number }>();
    for (const c of keyed) {
      if (c.rate_key === null) continue;
      const w = { key: String(c.rate_key), ...this.windowOf(c) };
      if (!this.rates.has(windowKey(w.key, w.start))) windows.set(windowKey(w.key, w.start), w);
    }
    const stmts: Stmt[] = [];
    if (concKeys.length > 0) {
      stmts.push(
        {
          sql: `INSERT INTO ${t}_limits (concurrency_key) VALUES ${concKeys.map(() => '(?)').join(', ')} ON DUPLICATE KEY UPDATE concurrency_key = concurrency_key`,
          args: concKeys,
        },
        {
          sql: `SELECT concurrency_key AS k, COUNT(*) AS n FROM ${t} FORCE INDEX (jobs_concurrency) WHERE concurrency_key IN (?) AND status = 'processing' GROUP BY concurrency_key`,
          args: [concKeys],
        },
      );
    }
    const ws = [...windows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w);
    if (ws.length > 0) {
      const keys = [...new Set(ws.map((w) => w.key))];
      stmts.push(
        {
          sql: `INSERT INTO ${t}_rates (rate_key, window_start, window_end, starts) VALUES ${ws.map(() => '(?, ?, ?, 0)').join(', ')} ON DUPLICATE KEY UPDATE starts = starts`,
          args: ws.flatMap((w) => [w.key, w.start, w.end]),
        },
        {
          sql: `SELECT rate_key AS k, window_start AS s, starts FROM ${t}_rates WHERE rate_key IN (?) AND window_start IN (?)`,
          args: [keys, ws.map((w) => w.start)],
        },
        // Ended windows of these keys are of no use any more (admin prune takes the rest).
        { sql: `DELETE FROM ${t}_rates WHERE rate_key IN (?) AND window_end <= ?`, args: [keys, Math.min(...ws.map((w) => w.start))] },
        // The time once the window rows are locked: a claim that waited into the next window counts there.
        { sql: 'SELECT UNIX_TIMESTAMP(UTC_TIMESTAMP(3)) AS now_s', args: [] },
      );
    }
    if (stmts.length === 0) return; // every key already locked by an earlier pass
    const sets = (await this.send(stmts)) as RowDataPacket[][];
    if (concKeys.length > 0) {
      const running = new Map(sets[1]!.map((r) => [String(r.k), Number(r.n)]));
      for (const k of concKeys) this.conc.set(k, { running: running.get(k) ?? 0, taken: 0 });
    }
    if (ws.length > 0) {
      const starts = new Map(sets[concKeys.length > 0 ? 3 : 1]!.map((r) => [windowKey(String(r.k), Number(r.s)), Number(r.starts)]));
      for (const w of ws) this.rates.set(windowKey(w.key, w.start), { ...w, starts: starts.get(windowKey(w.key, w.start)) ?? 0, taken: 0 });
      this.rateNowMs = Math.round(Number(sets.at(-1)![0]!.now_s) * 1000);
      // Crossed into the next window while waiting for the locks: lock and count that one instead.
      if (depth < 2 && ws.some((w) => this.rateNowMs! >= w.end)) await this.lockKeys(keyed, depth + 1);
    }
  }

  /** The fixed window (epoch-aligned, store clock: as read under the locks once read) a candidate's rate counts in. */
  private windowOf(c: RowDataPacket): { start: number; end: number } {
    const perMs = Number(c.rate_per_ms);
    const nowMs = this.rateNowMs ?? Math.round(Number(c.now_s) * 1000);
    const start = Math.floor(nowMs / perMs) * perMs;
    return { start, end: start + perMs };
  }

  /** Sends the pending writes, then `stmts` (BEGIN first, once); returns the result sets of `stmts`. */
  private async send(stmts: Stmt[]): Promise<unknown[]> {
    const all = [...(this.begun ? [] : [{ sql: 'START TRANSACTION', args: [] }]), ...this.pending, ...stmts];
    this.begun = true; // set first: if a statement fails after BEGIN ran, the caller rolls back
    this.pending = [];
    const [res] = await this.conn.query(
      all.map((s) => s.sql).join('; '),
      all.flatMap((s) => s.args),
    );
    const sets = all.length === 1 ? [res] : (res as unknown[]);
    return sets.slice(all.length - stmts.length);
  }
}

function windowKey(key: string, start: number): string {
  return `${key}\n${start}`;
}

/** `charged`: the row was read after the claim's UPDATE, its attempts already counting this one. */
export function toClaimed(r: RowDataPacket, token: string, charged: boolean): ClaimedJob {
  return {
    id: Number(r.id),
    token,
    handler: r.handler,
    queue: r.queue,
    payload: r.payload,
    attempts: Number(r.attempts) + (charged ? 0 : 1),
    maxAttempts: Number(r.max_attempts),
    retryAfterMs: Number(r.retry_after_ms),
    timeoutMs: r.timeout_ms === null ? null : Number(r.timeout_ms),
    scheduledAtMs: (r.scheduled_at as Date).getTime(),
    priority: Number(r.priority ?? 0),
    retryPolicy: r.retry_policy ?? null,
  };
}
