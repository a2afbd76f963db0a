import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobId } from '../../src/stores/store.ts';
import { jobRow } from './job-rows.ts';
import type { HostProcess, Rig, RigStore } from './multihost.ts';
import { waitFor } from './wait.ts';

// Shared steps of the multi-host cases: HostTraced jobs in a store of the rig, their side
// record read back, waits on it, and the jobs' final rows.

export const KINDS = ['mysql', 'redis'] as const;
export type Kind = (typeof KINDS)[number];

export interface TraceLine {
  kind: 'start' | 'run';
  id: number;
  attempt: number;
  runtimeId: string;
  /** The host name the run saw (the runtime id's first part). */
  host: string;
  at: number;
  outcome: 'ok' | 'fail' | null;
}

/** Lines of a HostTraced side file (missing: none). */
export function readHostTrace(file: string): TraceLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [kind, id, attempt, runtimeId, at, outcome] = l.split(' ');
      if ((kind !== 'start' && kind !== 'run') || !runtimeId) throw new Error(`bad HostTraced line: ${l}`);
      return {
        kind,
        id: Number(id),
        attempt: Number(attempt),
        runtimeId,
        host: runtimeId.split(':')[0]!,
        at: Number(at),
        outcome: (outcome as 'ok' | 'fail') ?? null,
      };
    });
}

export interface Scenario {
  kind: Kind;
  s: RigStore;
  trace: string;
  ids: number[];
  /** Runtimes by host. */
  runtimes: Map<string, HostProcess>;
}

/** A store of the rig with `n` HostTraced jobs (one attempt each) waiting in it. */
export async function scenario(rig: Rig, kind: Kind, name: string, n: number, payload: Record<string, unknown>): Promise<Scenario> {
  const s = await rig.openStore(kind, `${name}_${kind}`);
  const trace = join(rig.dir, `${name}-${kind}.trace`);
  const ids = await s.store.producer.enqueue({
    jobs: Array.from({ length: n }, () => jobRow({ handler: 'HostTraced', payload: { file: trace, ...payload } })),
  });
  return { kind, s, trace, ids: ids.map(Number), runtimes: new Map() };
}

/** Waits until `n` runs have started on `host` (bounded); returns those start lines. */
export function waitForStarts(sc: Scenario, host: string, n: number, timeoutMs: number): Promise<TraceLine[]> {
  return waitFor(
    `${n} runs started on ${host} (${sc.kind})`,
    () => {
      const starts = readHostTrace(sc.trace).filter((l) => l.kind === 'start' && l.host === host);
      return starts.length >= n ? starts : null;
    },
    timeoutMs,
    50,
  );
}

/** The status of each job's row ('gone' once deleted). */
export async function statuses(sc: Scenario): Promise<Map<number, string>> {
  const m = new Map<number, string>();
  for (const id of sc.ids) m.set(id, (await sc.s.store.admin.getJob({ id: id as JobId }))?.status ?? 'gone');
  return m;
}

/** Waits (bounded) until no job is new or processing; returns the final statuses. */
export async function waitForFinal(sc: Scenario, timeoutMs: number): Promise<Map<number, string>> {
  let last = new Map<number, string>();
  try {
    await waitFor(
      `every ${sc.kind} job to end`,
      async () => {
        last = await statuses(sc);
        return [...last.values()].every((st) => st === 'completed' || st === 'failed' || st === 'gone');
      },
      timeoutMs,
      200,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}: ${describe(last)}`);
  }
  return last;
}

/** "completed 18, failed 2" */
export function describe(st: Map<number, string>): string {
  const by = new Map<string, number>();
  for (const v of st.values()) by.set(v, (by.get(v) ?? 0) + 1);
  return [...by].map(([k, v]) => `${k} ${v}`).join(', ');
}

/** Finished runs per job id. */
export function runsById(lines: TraceLine[]): Map<number, TraceLine[]> {
  const m = new Map<number, TraceLine[]>();
  for (const l of lines) if (l.kind === 'run') m.set(l.id, [...(m.get(l.id) ?? []), l]);
  return m;
}

/**
 * Samples, from the test's own connection, how long the store has heard nothing from the
 * runtimes of `host`; stop() returns the longest silence seen (ms, by the store's clock).
 */
export function watchSilence(sc: Scenario, host: string, everyMs = 200): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const r of await sc.s.store.registry.listRuntimes({}).catch(() => [])) if (r.id.startsWith(`${host}:`)) max = Math.max(max, r.silentForMs);
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}
