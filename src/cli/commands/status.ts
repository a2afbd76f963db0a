import { Option, type Command } from 'commander';
import type { JobStore } from '../../stores/store.js';
import { addStoreOptions, openConfiguredStore } from '../common.js';
import { printJson } from '../format.js';
import { durationAtLeast } from '../options.js';
import { DEAD_AFTER_MS, gatherStatus } from '../../operations/status-snapshot.js';
import { renderStatus } from '../status-screen.js';
import { timerMs } from '../../runtime/long-timers.js';

interface StatusOptions {
  watch?: boolean;
  interval: number;
  deadAfter: number;
  json?: boolean;
  databaseUrl?: string;
  jobsDir?: string;
}

// Terminal control for the live view, as `top` does it: the alternate screen (the shell's
// screen comes back on quit), cursor hidden, each frame drawn from the top-left with every line
// and the rest of the screen cleared behind it (no blank flash between frames).
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

export function registerStatus(program: Command): void {
  addStoreOptions(
    program
      .command('status')
      .description('Show live runtimes (host, pid, threads, CPU, memory, jobs done) and every queue (waiting, delayed, processing, failed, paused, throughput)')
      .option('--watch', 'on a terminal, redraw in place every --interval until q or Ctrl-C (piped: print once)')
      .addOption(
        new Option('--interval <seconds>', 'refresh period of --watch (seconds, or text like 500ms; at least 200 ms)')
          .argParser(durationAtLeast('--interval', 200, '200 ms'))
          .default(2000, '2'),
      )
      .addOption(
        new Option('--dead-after <seconds>', "show a runtime silent this long as dead: give the runtimes' own --dead-after (seconds, or text like 2 minutes)")
          .argParser(durationAtLeast('--dead-after', 1000, '1 s'))
          .default(DEAD_AFTER_MS, '30'),
      )
      .option('--json', 'print the figures as JSON'),
  ).action(async (opts: StatusOptions, cmd: Command) => {
    if (!opts.watch && cmd.getOptionValueSource('interval') === 'cli') process.stderr.write('! --interval has an effect only with --watch\n');
    const { config, store } = await openConfiguredStore(opts, { maxConnections: 1 });
    const php = config.lightpack?.queues ?? [];
    try {
      if (opts.json) printJson(await gatherStatus(store, opts.deadAfter, php));
      else if (opts.watch && process.stdout.isTTY) await watch(store, opts.interval, opts.deadAfter, php);
      else process.stdout.write(`${renderStatus(await gatherStatus(store, opts.deadAfter, php))}\n`);
    } finally {
      await store.close();
    }
  });
}

async function watch(store: JobStore, intervalMs: number, deadAfterMs: number, phpQueues: string[]): Promise<void> {
  let quit!: () => void;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  let done = false;
  quitting.then(() => (done = true));
  const stdin = process.stdin;
  const onKey = (data: Buffer) => {
    const key = data.toString();
    if (key === 'q' || key === 'Q' || key === '\x03') quit(); // Ctrl-C arrives as \x03 in raw mode
  };
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  }
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
  process.stdout.write(ENTER);
  try {
    while (!done) {
      let screen: string;
      try {
        screen = renderStatus(await gatherStatus(store, deadAfterMs, phpQueues));
      } catch (e) {
        screen = `Cannot read the store: ${(e as Error).message}\n(retrying every ${intervalMs / 1000}s)`;
      }
      const footer = `\nEvery ${intervalMs / 1000}s · q or Ctrl-C quits`;
      process.stdout.write(
        HOME +
          `${screen}\n${footer}`
            .split('\n')
            .map((l) => l + CLEAR_LINE)
            .join('\n') +
          CLEAR_BELOW,
      );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([quitting, new Promise((r) => (timer = setTimeout(r, timerMs(intervalMs))))]);
      clearTimeout(timer);
    }
  } finally {
    process.stdout.write(LEAVE);
    process.removeListener('SIGINT', quit);
    process.removeListener('SIGTERM', quit);
    if (stdin.isTTY) {
      stdin.removeListener('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
  }
}
