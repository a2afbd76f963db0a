import { spawn } from 'node:child_process';

// A request/reply with a child Node process: the request as JSON on its stdin, the reply as JSON
// on its stdout. The master uses it for work that must not run in its own process (compiling
// TypeScript job files, importing them to read their static schedules).

export interface JsonChildOptions {
  /** The child's script. */
  script: string;
  /** Killed (SIGKILL) and refused after this long: a child that hangs never holds the caller. */
  limitMs: number;
  /** What the child does, for messages: "the compiler", "reading the job classes' static schedules". */
  what: string;
  cwd?: string;
  /**
   * The reply follows the last occurrence of this mark (children whose imported code may print
   * on stdout); without it, stdout is the reply.
   */
  replyMark?: string;
  /**
   * With `progressMark`: the child prints the mark and a line (what it starts next, e.g. a file)
   * before each step; a child silent for `silenceLimitMs` after one is killed, and the promise
   * rejects with a ChildStuckError naming that line: a step that blocks the child's event loop
   * (an endless loop at a module's top level) costs this long, not `limitMs`.
   */
  progressMark?: string;
  silenceLimitMs?: number;
}

/** The child went silent inside a step it announced (see JsonChildOptions.progressMark). */
export class ChildStuckError extends Error {
  override name = 'ChildStuckError';
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

export function runJsonChild<Reply>(request: unknown, o: JsonChildOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [o.script], { stdio: ['pipe', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${o.what}: no answer within ${o.limitMs / 1000} s`));
    }, o.limitMs);
    // The last step the child announced, and a timer that ends it when it stays silent in it.
    let step: string | null = null;
    let silence: NodeJS.Timeout | undefined;
    const heard = () => {
      if (o.progressMark === undefined || o.silenceLimitMs === undefined) return;
      const at = out.lastIndexOf(o.progressMark);
      if (at < 0) return;
      const end = out.indexOf('\n', at + o.progressMark.length);
      step = out.slice(at + o.progressMark.length, end < 0 ? undefined : end);
      clearTimeout(silence);
      silence = setTimeout(() => {
        child.kill('SIGKILL');
        clearTimeout(timer);
        reject(new ChildStuckError(step ?? '', `${o.what}: no progress for ${o.silenceLimitMs! / 1000} s in ${step}`));
      }, o.silenceLimitMs);
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      heard();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(silence);
      if (code !== 0) return reject(new Error(`${o.what} failed: ${err.trim() || `exit code ${code}`}`));
      try {
        let text = out;
        if (o.replyMark !== undefined) {
          const at = out.lastIndexOf(o.replyMark);
          if (at < 0) throw new Error(`${o.what}: no reply (${err.trim() || 'no output'})`);
          text = out.slice(at + o.replyMark.length);
        }
        resolve(JSON.parse(text) as Reply);
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.on('error', () => undefined); // a child that died first: its exit says why
    child.stdin.end(JSON.stringify(request));
  });
}
