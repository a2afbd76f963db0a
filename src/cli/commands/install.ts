import { type Command, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '../../errors.js';
import { userExists, userNameOf } from '../../deploy/accounts.js';
import type { DeployOptions } from '../../deploy/deploy-options.js';
import { checkHostPaths } from '../../deploy/host-paths.js';
import { installedPaths } from '../../deploy/paths.js';
import { renderSupervisor, SUPERVISOR_DIR } from '../../deploy/render-supervisor.js';
import { renderSystemd, SYSTEMD_DIR, type RenderedUnit } from '../../deploy/render-systemd.js';
import { shellQuote } from '../../deploy/shell-quote.js';
import { absolutePath, assertAccountName, assertServiceName } from '../../deploy/validate.js';
import { writeUnit } from '../../deploy/write-unit.js';
import { duration, positiveInt, queueList } from '../options.js';

// install:systemd and install:supervisor: render the unit for this app from the templates in
// systemd/ and supervisor/, with the node binary, this package's bin and the app directory
// resolved now, and write it (or print it). The rendering and quoting are in src/deploy/.

interface InstallCliOptions {
  name: string;
  user?: string;
  group?: string;
  dir?: string;
  procs?: number;
  queue?: string[];
  envFile?: string;
  log?: string;
  grace: number;
  output?: string;
  print?: boolean;
  force?: boolean;
  template?: boolean;
  notify: boolean;
  numprocs: number;
}

function addCommonOptions(cmd: Command, systemDir: string): Command {
  return cmd
    .option('--name <name>', 'unit/program name', 'jobs-runtime')
    .option('--user <user>', 'user the runtime runs as (default: the owner of --dir)')
    .option(
      '--dir <dir>',
      'the app directory: working directory, .env, jobs/ (default: the current directory; with --print or --output it may be a directory of another host)',
    )
    .option('--procs <n>', 'worker threads per master (default: decided at start, one per CPU)', positiveInt('--procs', 256))
    .option('--queue <names>', 'queues, in strict priority order, comma separated (default: all)', queueList)
    .option(
      '--env-file <file>',
      'file of KEY=value lines for the runtime (e.g. JOBS_DATABASE_URL); systemd reads it (EnvironmentFile=), under supervisor node does (--env-file); it must exist unless --print or --output prepares a unit for another host',
    )
    .option('--log <file>', 'the log file (default: <dir>/worker.log)')
    .addOption(
      new Option('--grace <seconds>', 'how long running jobs may finish on stop; the stop timeout is this plus 15 s (seconds, or text like 2 minutes)')
        .argParser(duration('--grace'))
        .default(30_000, '30'),
    )
    .addOption(new Option('--output <dir>', `write the file into this directory (default: ${systemDir})`).conflicts('print'))
    .option('--print', 'print the file to stdout instead of writing it')
    .option('--force', 'overwrite an existing file');
}

export function registerInstallSystemd(program: Command): void {
  addCommonOptions(
    program
      .command('install:systemd')
      .description(`Write a systemd unit for this app (${SYSTEMD_DIR}/<name>.service) and print the commands that enable it`)
      .option('--group <group>', "group the runtime runs as (default: the user's primary group)")
      .option(
        '--template',
        'write the instance template <name>@.service instead: one master per queue set, the instance name being the queue list (--queue then only names the instance in the printed command)',
      )
      .option('--no-notify', 'Type=exec instead of Type=notify with a watchdog (for systemd older than 246)'),
    SYSTEMD_DIR,
  ).action((opts: InstallCliOptions) => {
    const o = deployOptions(opts, 'systemd');
    emit(renderSystemd({ ...o, template: opts.template ?? false, notify: opts.notify }), opts, SYSTEMD_DIR, o);
  });
}

export function registerInstallSupervisor(program: Command): void {
  addCommonOptions(
    program
      .command('install:supervisor')
      .description(`Write a supervisor program for this app (${SUPERVISOR_DIR}/<name>.conf) and print the commands that start it`)
      .option(
        '--numprocs <n>',
        "supervisor's process count: separate masters, each with --procs worker threads (one master usually suffices: it already runs jobs on all its threads)",
        positiveInt('--numprocs', 100),
        1,
      )
      // Not offered (hidden from --help); given, it is refused with the reason below.
      .addOption(new Option('--group <group>').hideHelp()),
    SUPERVISOR_DIR,
  ).action((opts: InstallCliOptions) => {
    if (opts.group !== undefined) {
      throw new InvalidInputError(
        'install:supervisor has no --group: supervisor runs a program with the primary group (and the other groups) of its user; ' +
          "change the user's primary group, or use install:systemd",
      );
    }
    const o = deployOptions(opts, 'supervisor');
    emit(renderSupervisor({ ...o, numprocs: opts.numprocs }), opts, SUPERVISOR_DIR, o);
  });
}

function deployOptions(opts: InstallCliOptions, format: 'systemd' | 'supervisor'): DeployOptions {
  assertServiceName(opts.name);
  const dir = absolutePath('--dir', opts.dir ?? process.cwd());
  const log = absolutePath('--log', opts.log ?? join(dir, 'worker.log'));
  const envFile = opts.envFile === undefined ? null : absolutePath('--env-file', opts.envFile);
  const forThisHost = !opts.print && opts.output === undefined;
  for (const w of checkHostPaths({ dir, log, envFile, format, forThisHost })) warn(w);

  let user = opts.user;
  if (user === undefined) {
    if (!existsSync(dir)) throw new InvalidInputError(`--dir ${dir} does not exist on this machine, so it has no owner to run as: give the user with --user`);
    const uid = statSync(dir).uid;
    const owner = userNameOf(uid);
    if (owner === null) throw new InvalidInputError(`The owner of ${dir} (uid ${uid}) has no name in /etc/passwd: give the user with --user`);
    user = owner;
  } else {
    assertAccountName('--user', user);
    if (!userExists(user)) warn(`no user '${user}' in /etc/passwd (fine if it comes from LDAP or another name service)`);
  }
  if (user === 'root') warn('the runtime will run as root: pass --user with an unprivileged user (the default is the owner of --dir)');
  if (opts.group !== undefined) assertAccountName('--group', opts.group);

  const { node, bin } = installedPaths();
  return {
    name: opts.name,
    user,
    group: opts.group ?? null,
    dir,
    procs: opts.procs ?? null,
    queues: opts.queue ?? null,
    envFile,
    log,
    graceMs: opts.grace,
    node,
    bin,
  };
}

function emit(unit: RenderedUnit, opts: InstallCliOptions, systemDir: string, o: DeployOptions): void {
  const target = join(systemDir, unit.fileName);
  if (opts.print) {
    process.stdout.write(unit.text);
    process.stderr.write(`Next, once saved as ${target}:\n${unit.nextCommands.map((c) => `  ${c}\n`).join('')}`);
    return;
  }
  const outDir = opts.output === undefined ? systemDir : absolutePath('--output', opts.output);
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new InvalidInputError(`--output ${outDir} is not a directory`);
  const path = writeUnit(outDir, unit.fileName, unit.text, opts.force ?? false);
  const steps = path === target ? unit.nextCommands : [`cp ${shellQuote(path)} ${systemDir}/`, ...unit.nextCommands];
  process.stdout.write(
    `Wrote ${path} (runs as ${o.user} in ${o.dir})\n` + `Next, as root:\n${steps.map((c) => `  ${c}\n`).join('')}` + `Log: tail -f ${shellQuote(o.log)}\n`,
  );
}

function warn(message: string): void {
  process.stderr.write(`jobs-runtime: warning: ${message}\n`);
}
