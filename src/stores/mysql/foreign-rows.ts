// Rows of another system sharing the table: Lightpack's PHP workers. They run the rows of their
// queues, and every row whose handler is a PHP class name (Lightpack stores `App\Jobs\SendMail`;
// a Node handler never holds a backslash). No claim, prune or give-back of ours touches them,
// except rows of PHP classes Node has taken over (`takenOver`) outside the PHP queues.
// With no setting, PHP class names are still left alone: a runtime must never fail a PHP job.

/** The MySQL store's option (open-store.ts `foreignJobs`), from the Lightpack setting. */
export interface ForeignJobs {
  /** Queues PHP workers run. */
  queues: string[];
  /** PHP class names, as stored, whose rows runtimes run. */
  takenOver: string[];
}

export const NO_FOREIGN: ForeignJobs = { queues: [], takenOver: [] };

/**
 * ` AND …`: the row is ours to claim or prune. CHAR(92) is the backslash, written without
 * escapes (LIKE and string literals would each take one). Parameters: ownRowsArgs.
 */
export function ownRowsSql(f: ForeignJobs): string {
  const taken = f.takenOver.length > 0 ? ' OR handler IN (?)' : '';
  const queues = f.queues.length > 0 ? ' AND queue NOT IN (?)' : '';
  return ` AND (INSTR(handler, CHAR(92)) = 0${taken})${queues}`;
}

export function ownRowsArgs(f: ForeignJobs): unknown[] {
  return [...(f.takenOver.length > 0 ? [f.takenOver] : []), ...(f.queues.length > 0 ? [f.queues] : [])];
}
