import { commandLine, rawValue } from './supervisor-quote.js';
import { startArgv, stopTimeoutSeconds, type DeployOptions } from './deploy-options.js';
import { fillTemplate, readTemplate } from './template.js';
import type { RenderedUnit } from './render-systemd.js';

export const SUPERVISOR_DIR = '/etc/supervisor/conf.d';

export interface SupervisorOptions extends DeployOptions {
  /** supervisor's process count: separate masters, each with `procs` threads. */
  numprocs: number;
}

const MAX_BYTES = '50MB';
const BACKUPS = 10;

export function renderSupervisor(o: SupervisorOptions): RenderedUnit {
  const fileName = `${o.name}.conf`;
  const [node, ...rest] = startArgv(o);
  // supervisor has no env-file setting: node loads it (environment variables already set win,
  // as with the runtime's own .env).
  const argv = [node!, ...(o.envFile === null ? [] : [{ what: '--env-file', value: `--env-file=${o.envFile}` }]), ...rest];
  // supervisor's own rotation renames the file under every process writing it: with more than
  // one process, each would go on writing to its own renamed copy (its docs: rotation corrupts a
  // shared log). Then rotation is left to logrotate's copytruncate, safe as supervisor appends.
  const shared = o.numprocs > 1;
  const text = fillTemplate(
    readTemplate('supervisor/jobs-runtime.conf'),
    {
      fileName,
      name: o.name,
      dir: o.dir,
      log: o.log,
      rotation: shared
        ? `With numprocs=${o.numprocs} the processes share it, so supervisor does not rotate it: use logrotate with copytruncate.`
        : `supervisor rotates it at ${MAX_BYTES}, keeping ${BACKUPS} old files (.1, .2, ...).`,
      command: commandLine(argv),
      directory: rawValue('--dir', o.dir),
      user: rawValue('--user', o.user),
      numprocs: String(o.numprocs),
      stopwaitsecs: String(stopTimeoutSeconds(o.graceMs)),
      stdoutLogfile: rawValue('--log', o.log, 2),
      maxbytes: shared ? '0' : MAX_BYTES,
      backups: String(shared ? 0 : BACKUPS),
    },
    fileName,
  );
  return { fileName, text, nextCommands: ['supervisorctl reread && supervisorctl update'] };
}
