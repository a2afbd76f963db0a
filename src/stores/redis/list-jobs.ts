import type { Redis } from 'ioredis';
import { InvalidInputError } from '../../errors.js';
import { assertJobListSelection, pageFromScan, scanWindow } from '../job-list.js';
import type { JobListPage, JobListSelection, JobRecord, ThroughputMinute } from '../store.js';
import { toRecord } from './rows.js';
import type { RedisDatabase } from './database.js';

// Admin.listJobs and throughputByMinute on Redis, read outside any script (plain commands, so
// Redis is never held for a page). A state is one or more sources read in order, each a sorted
// set by (score, member) from the cursor on, or, for blocked jobs, the queue's blocked set by
// SSCAN (a set has no order: a page of them is sorted by id). Blocked jobs are kept in claim
// order only per concurrency key (cblocked:<key>, which may span queues); listing a queue's in
// claim order would need a sorted set per queue kept on every block and unblock, in the claim
// and record scripts, for a list that is rarely long: the order is documented instead. Waiting: the queue's ready set
// (claim order), then its due set up to now (due jobs no claim has moved yet), then blocked.
// A cursor is `<source>_<score or SSCAN cursor>_<last id>`.

type Phase = 'r' | 'd' | 'b' | 'z';
interface Source {
  phase: Phase;
  key: string;
  /** Score bounds of a sorted set (ZRANGE BYSCORE syntax). */
  min?: string;
  max?: string;
}
interface Entry {
  id: number;
  cursor: string;
}

function sourcesOf(prefix: string, sel: JobListSelection, now: number): Source[] {
  const q = sel.queue;
  switch (sel.state) {
    case 'waiting':
      return [
        { phase: 'r', key: `${prefix}ready:${q}` },
        { phase: 'd', key: `${prefix}due:${q}`, max: String(now) },
        { phase: 'b', key: `${prefix}qblocked:${q}` },
      ];
    case 'delayed':
      return [{ phase: 'z', key: `${prefix}due:${q}`, min: `(${now}` }];
    case 'processing':
      return [{ phase: 'z', key: `${prefix}active:${q}` }];
    default:
      return [{ phase: 'z', key: `${prefix}${sel.state}:${q}` }];
  }
}

function decode(after: string | null | undefined): { phase: Phase; at: string; id: number } | null {
  if (after === undefined || after === null || after === '') return null;
  const m = /^([rdbz])_(\d{1,20})_(\d{1,16})$/.exec(after);
  if (!m) throw new InvalidInputError(`Malformed page cursor '${after}': use the link of the previous page`);
  return { phase: m[1] as Phase, at: m[2]!, id: Number(m[3]) };
}

/** Up to `n` members of a sorted set after (score, id), in order. Ties on a score are rare (same ms): read a few more. */
async function zsetAfter(client: Redis, src: Source, from: { at: string; id: number } | null, n: number): Promise<Entry[]> {
  const min = from ? from.at : (src.min ?? '-inf');
  const max = src.max ?? '+inf';
  for (let extra = 16; ; extra *= 4) {
    const flat = await client.zrange(src.key, min, max, 'BYSCORE', 'LIMIT', 0, n + extra, 'WITHSCORES');
    const out: Entry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = Number(flat[i]);
      const score = String(Number(flat[i + 1]));
      if (from && score === from.at && id <= from.id) continue;
      out.push({ id, cursor: `${src.phase}_${score}_${id}` });
    }
    // Either enough past the cursor, or the set ended within this read.
    if (out.length >= n || flat.length / 2 < n + extra) return out.slice(0, n);
  }
}

/** Blocked members from an SSCAN cursor on: each batch sorted by id, ids at or before `from.id` in its first batch skipped. */
async function setAfter(client: Redis, src: Source, from: { at: string; id: number } | null, n: number): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor = from ? from.at : '0';
  let first = true;
  do {
    const [next, members] = await client.sscan(src.key, cursor, 'COUNT', Math.max(n, 100));
    const ids = members.map(Number).sort((a, b) => a - b);
    for (const id of ids) if (!(first && from && id <= from.id)) out.push({ id, cursor: `b_${cursor}_${id}` });
    first = false;
    cursor = next;
  } while (cursor !== '0' && out.length < n);
  return out;
}

export async function listJobsRedis(db: RedisDatabase, sel: JobListSelection): Promise<JobListPage> {
  assertJobListSelection(sel);
  const after = decode(sel.after);
  const window = scanWindow(sel);
  return db.run(async (client) => {
    const [s, us] = await client.time();
    const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    if (sel.id !== undefined) return oneJob(client, db.prefix, sel, now);
    const sources = sourcesOf(db.prefix, sel, now);
    let start = after ? sources.findIndex((src) => src.phase === after.phase) : 0;
    if (start < 0) throw new InvalidInputError(`The page cursor '${sel.after}' is not one of a ${sel.state} list`);
    const scan: Entry[] = [];
    for (; start < sources.length && scan.length < window; start++) {
      const src = sources[start]!;
      const from = after && after.phase === src.phase ? after : null;
      const read = src.phase === 'b' ? setAfter : zsetAfter;
      scan.push(...(await read(client, src, from, window - scan.length)));
    }
    let handlers: Array<string | null> = [];
    if (sel.handler !== undefined && scan.length > 0) {
      const pipe = client.pipeline();
      for (const e of scan) pipe.hget(`${db.prefix}job:${e.id}`, 'handler');
      handlers = ((await pipe.exec()) ?? []).map(([, v]) => (v as string | null) ?? null);
    }
    const index = new Map(scan.map((e, k) => [e, k]));
    const chosen = pageFromScan(
      scan,
      window,
      sel.limit,
      (e) => (sel.handler === undefined || handlers[index.get(e)!] === sel.handler ? ({ id: e.id } as JobRecord) : null),
      (e) => e.cursor,
    );
    const jobs = await fetchJobs(
      client,
      db.prefix,
      chosen.jobs.map((j) => j.id),
    );
    return { jobs, next: chosen.next };
  });
}

async function fetchJobs(client: Redis, prefix: string, ids: number[]): Promise<JobRecord[]> {
  if (ids.length === 0) return [];
  const pipe = client.pipeline();
  for (const id of ids) pipe.hgetall(`${prefix}job:${id}`);
  const rows = (await pipe.exec()) ?? [];
  return rows
    .map(([, h], k) => {
      const hash = h as Record<string, string>;
      // A waiting job holds its unique key; a running one unless it was given up when claimed ('started').
      const held = hash.status === 'new' || hash.status === 'blocked' || (hash.status === 'processing' && hash.unique_until !== 'started');
      return toRecord(ids[k]!, hash, held);
    })
    .filter((j): j is JobRecord => j !== null);
}

/** The search by id: the job when it is in this queue and state, else an empty page. */
async function oneJob(client: Redis, prefix: string, sel: JobListSelection, now: number): Promise<JobListPage> {
  const [job] = await fetchJobs(client, prefix, [sel.id!]);
  if (!job || job.queue !== sel.queue || (sel.handler !== undefined && job.handler !== sel.handler)) return { jobs: [], next: null };
  const due = job.scheduledAt.getTime() <= now;
  const state = job.status === 'blocked' || (job.status === 'new' && due) ? 'waiting' : job.status === 'new' ? 'delayed' : job.status;
  return { jobs: state === sel.state ? [job] : [], next: null };
}

export async function throughputByMinuteRedis(db: RedisDatabase, params: { sinceMs: number; queue?: string }): Promise<ThroughputMinute[]> {
  return db.run(async (client) => {
    const [s] = await client.time();
    const nowMinute = Math.floor(Number(s) / 60);
    const from = Math.floor((Number(s) * 1000 - params.sinceMs) / 60_000);
    // One pipelined HGETALL per minute (2,880 for 48 h), outside any script: Redis serves claims in between.
    const pipe = client.pipeline();
    for (let m = from; m <= nowMinute; m++) pipe.hgetall(`${db.prefix}stats:${m}`);
    const rows = (await pipe.exec()) ?? [];
    const out: ThroughputMinute[] = [];
    rows.forEach(([, h], k) => {
      let completed = 0;
      let failed = 0;
      for (const [field, v] of Object.entries(h as Record<string, string>)) {
        if (params.queue !== undefined && field.slice(2) !== params.queue) continue;
        if (field.startsWith('c:')) completed += Number(v);
        else if (field.startsWith('f:')) failed += Number(v);
      }
      if (completed + failed > 0) out.push({ minuteMs: (from + k) * 60_000, completed, failed });
    });
    return out;
  });
}
