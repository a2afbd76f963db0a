import chalk, { chalkStderr, type ChalkInstance } from 'chalk';
import { closeSync, openSync, writeSync } from 'node:fs';

// Output of the master. The per-job lines are the seed's, word for word:
//   ✔ Job processed successfully: 123
//   ✖ Error dispatching job: 123 - Recipient email address is missing
// with detail after them on the same line. On a TTY they are coloured; piped (supervisor,
// systemd) and in the --log file every line starts with an ISO timestamp and a level, so
// `tail -f worker.log` reads the same whichever wrote it. --json prints one object per event.
// Lines are buffered and written once per event-loop turn: 20k jobs/s must not mean 20k syscalls.
// stdout and stderr share one buffer, in the order the lines were stamped: under supervisor or
// `2>&1` both go to one file, and a WARN must not land after INFO lines stamped later.

export type LogFormat = 'pretty' | 'plain' | 'json';
/** Longest error message shown in a ✖ line; the job's row keeps more. */
const MAX_LINE_CHARS = 1_000;
type Level = 'INFO' | 'WARN' | 'ERROR';

export interface LoggerOptions {
  format: LogFormat;
  /** Leave out the per-job success lines (failures and warnings still print). */
  quiet?: boolean;
  /** Append plain lines to this file as well. */
  logFile?: string;
  stdoutFd?: number;
  stderrFd?: number;
}

export interface JobLine {
  id: number;
  handler: string;
  queue: string;
  attempts: number;
  maxAttempts: number;
  durationMs: number;
}

export class Logger {
  /** Lines for stdout (1) and stderr (2), in order. */
  private console: Array<{ toStderr: boolean; line: string }> = [];
  private file: string[] = [];
  private fileFd: number | null = null;
  private scheduled = false;

  constructor(private readonly options: LoggerOptions) {
    this.openLogFile();
  }

  /** Reopens the --log file (after logrotate moved it away): SIGHUP. */
  reopen(): void {
    this.flush();
    if (this.fileFd !== null) closeSync(this.fileFd);
    this.fileFd = null;
    this.openLogFile();
  }

  private openLogFile(): void {
    if (this.options.logFile) this.fileFd = openSync(this.options.logFile, 'a');
  }

  jobCompleted(job: JobLine, warnings: string[]): void {
    for (const w of warnings) this.warn(`Job ${job.id} (${job.handler}): ${w}`);
    const text = `✔ Job processed successfully: ${job.id}`;
    const detail = ` (${job.handler}, ${formatMs(job.durationMs)})`;
    this.emit('INFO', text, detail, { event: 'job.completed', ...job }, this.options.quiet === true);
  }

  jobFailed(job: JobLine, message: string, next: { retryInMs: number } | null, warnings: string[], thrownAt?: string): void {
    for (const w of warnings) this.warn(`Job ${job.id} (${job.handler}): ${w}`);
    // One line per failure, of a readable length, whatever the job threw.
    const line = message.split('\n', 1)[0] ?? '';
    const firstLine = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
    const text = `✖ Error dispatching job: ${job.id} - ${firstLine}`;
    const fate = next ? (next.retryInMs < 1 ? 'retrying now' : `retrying in ${formatMs(next.retryInMs)}`) : 'failed';
    const detail = ` (${job.handler}, attempt ${job.attempts}/${job.maxAttempts}, ${fate})${thrownAt ? ` at ${thrownAt}` : ''}`;
    this.emit('ERROR', text, detail, {
      event: next ? 'job.retrying' : 'job.failed',
      ...job,
      error: message,
      ...(thrownAt ? { thrownAt } : {}),
      ...(next ? { retryInMs: next.retryInMs } : {}),
    });
  }

  info(message: string, fields: Record<string, unknown> = {}): void {
    this.emit('INFO', message, '', { event: 'info', message, ...fields });
  }

  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.emit('WARN', message, '', { event: 'warning', message, ...fields });
  }

  error(message: string, fields: Record<string, unknown> = {}): void {
    this.emit('ERROR', message, '', { event: 'error', message, ...fields });
  }

  private emit(level: Level, text: string, detail: string, json: Record<string, unknown>, fileOnly = false): void {
    const ts = new Date().toISOString();
    const plain = `${ts} ${level.padEnd(5)} ${text}${detail}`;
    if (this.fileFd !== null) this.file.push(plain);
    if (!fileOnly) {
      if (this.options.format === 'json') this.console.push({ toStderr: false, line: JSON.stringify({ ts, level: level.toLowerCase(), ...json }) });
      else if (this.options.format === 'plain') this.console.push({ toStderr: level !== 'INFO', line: plain });
      else if (level === 'INFO') this.console.push({ toStderr: false, line: paint(chalk, level, text) + chalk.dim(detail) });
      else this.console.push({ toStderr: true, line: paint(chalkStderr, level, text) + chalkStderr.dim(detail) });
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes buffered lines now (also called at exit). */
  flush(): void {
    this.scheduled = false;
    // One write per run of lines bound for the same stream: usually one write in all.
    const lines = this.console;
    this.console = [];
    for (let i = 0; i < lines.length; ) {
      const toStderr = lines[i]!.toStderr;
      let j = i;
      while (j < lines.length && lines[j]!.toStderr === toStderr) j++;
      write(
        toStderr ? (this.options.stderrFd ?? 2) : (this.options.stdoutFd ?? 1),
        lines.slice(i, j).map((l) => l.line),
      );
      i = j;
    }
    if (this.fileFd !== null) write(this.fileFd, this.file);
    this.file = [];
  }

  close(): void {
    this.flush();
    if (this.fileFd !== null) closeSync(this.fileFd);
    this.fileFd = null;
  }
}

// chalk and chalkStderr each follow their own stream's TTY-ness, NO_COLOR and FORCE_COLOR.
function paint(c: ChalkInstance, level: Level, text: string): string {
  if (text.startsWith('✔')) return c.green(text);
  if (text.startsWith('✖')) return c.red(text);
  return level === 'INFO' ? text : level === 'WARN' ? c.yellow(text) : c.red(text);
}

function write(fd: number, lines: string[]): void {
  if (lines.length === 0) return;
  const buf = Buffer.from(`${lines.join('\n')}\n`);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      // A full pipe (EAGAIN) on a non-blocking stdout: try again; a closed one: give up quietly.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}

export function formatMs(ms: number): string {
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
