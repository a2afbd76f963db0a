import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerStart } from './commands/start.js';
import { registerMigrate } from './commands/migrate.js';
import { registerCreateJob } from './commands/create-job.js';
import { registerDispatch } from './commands/dispatch.js';
import { registerInstallSupervisor, registerInstallSystemd } from './commands/install.js';
import { registerStatus } from './commands/status.js';
import { registerFailed } from './commands/failed.js';
import { registerRetry } from './commands/retry.js';
import { registerForget } from './commands/forget.js';
import { registerFlush } from './commands/flush.js';
import { registerPause } from './commands/pause.js';
import { registerResume } from './commands/resume.js';
import { registerPrune } from './commands/prune.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerSchedules } from './commands/schedules.js';
import { isUserError } from './options.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('jobs-runtime')
  .description('Background jobs on MySQL/MariaDB, Redis or SQLite, run by a master process on a pool of worker threads.')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)');

registerStart(program, pkg.version);
registerMigrate(program);
registerCreateJob(program);
registerDispatch(program);
registerInstallSystemd(program);
registerInstallSupervisor(program);
registerStatus(program);
registerFailed(program);
registerRetry(program);
registerForget(program);
registerFlush(program);
registerPause(program);
registerResume(program);
registerPrune(program);
registerDashboard(program);
registerSchedules(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error;
  process.stderr.write(`jobs-runtime: ${isUserError(e) ? err.message : (err.stack ?? String(e))}\n`);
  process.exitCode = 1;
}
