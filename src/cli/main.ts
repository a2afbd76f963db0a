import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerStart } from './commands/start.js';
import { registerMigrate } from './commands/migrate.js';
import { registerCreateJob } from './commands/create-job.js';
import { registerDispatch } from './commands/dispatch.js';
import { registerInstallSupervisor, registerInstallSystemd } from './commands/install.js';
import { isUserError } from './options.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('jobs-runtime')
  .description('Background jobs on MySQL/MariaDB or SQLite, run by a master process on a pool of worker threads.')
  .version(pkg.version)
  .showHelpAfterError('(run with --help for usage)');

registerStart(program, pkg.version);
registerMigrate(program);
registerCreateJob(program);
registerDispatch(program);
registerInstallSystemd(program);
registerInstallSupervisor(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error;
  process.stderr.write(`jobs-runtime: ${isUserError(e) ? err.message : (err.stack ?? String(e))}\n`);
  process.exitCode = 1;
}
