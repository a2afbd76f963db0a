// What the MySQL store reports about rows Lightpack's PHP workers share (issue 19); re-exported by rows.ts.

/** A queue holding rows whose handler is a PHP class name (Lightpack's), for `start`'s check. */
export interface ForeignHandlerQueue {
  queue: string;
  jobs: number;
  /** One such handler, as stored (`App\\Jobs\\SendMail`). */
  example: string;
}

/** What `migrate --from-timezone` changes (or would change): waiting PHP rows moved from a zone's wall clock to UTC. */
export interface TimeShiftReport {
  zone: string;
  /** Waiting rows PHP wrote. */
  rows: number;
  /** Rows changed (0 on a dry run). */
  shifted: number;
  /** The distinct shifts applied, ms (UTC = stored − shift). */
  shiftsMs: number[];
  /** Per queue: rows, and the earliest and latest due time before → after. */
  queues: Array<{ queue: string; rows: number; first: { from: Date; to: Date }; last: { from: Date; to: Date } }>;
}
