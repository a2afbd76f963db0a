import { execLine, escapeUnitInstance, rawValue } from './systemd-quote.js';
import { isUnder, startArgv, stopTimeoutSeconds, writableDirs, type DeployOptions } from './deploy-options.js';
import { fillTemplate, readTemplate } from './template.js';
import { shellQuote } from './shell-quote.js';

export const SYSTEMD_DIR = '/etc/systemd/system';

export interface SystemdOptions extends DeployOptions {
  /** Write the instance template <name>@.service (one master per queue set). */
  template: boolean;
  /** Type=notify with the watchdog (false: Type=exec). */
  notify: boolean;
}

export interface RenderedUnit {
  fileName: string;
  text: string;
  /** What the operator runs once the file is in place. */
  nextCommands: string[];
}

/** Seconds without a ping before systemd kills the master; it pings every third of this (systemd-notify.ts). */
export const WATCHDOG_SEC = 60;

export function renderSystemd(o: SystemdOptions): RenderedUnit {
  const unitName = o.template ? `${o.name}@.service` : `${o.name}.service`;
  const argv = [
    // A template's queues are its instance name (--queue %I in the template), never fixed here.
    ...startArgv(o.template ? { ...o, queues: null } : o),
    { what: '--log', value: '--log' },
    { what: '--log', value: o.log },
    // Per-job ✔ lines go to the --log file only (the logger's quiet mode), not the journal.
    { what: '--quiet', value: '--quiet' },
  ];
  const writable = writableDirs(o);
  const text = fillTemplate(
    readTemplate(o.template ? 'systemd/jobs-runtime@.service' : 'systemd/jobs-runtime.service'),
    {
      unitName,
      name: o.name,
      // Shown in comments only, where nothing is expanded.
      dir: o.dir,
      log: o.log,
      type: o.notify ? 'notify' : 'exec',
      notifyAccess: o.notify ? 'all' : null,
      watchdogSec: o.notify ? `${WATCHDOG_SEC}s` : null,
      user: rawValue('--user', o.user),
      group: o.group === null ? null : rawValue('--group', o.group),
      workingDirectory: rawValue('--dir', o.dir),
      environmentFile: o.envFile === null ? null : rawValue('--env-file', o.envFile),
      command: execLine(argv),
      timeoutStopSec: `${stopTimeoutSeconds(o.graceMs)}s`,
      protectSystem: writable.some((d) => isUnder(d, ['/usr', '/boot', '/efi'])) ? 'no' : writable.some((d) => isUnder(d, ['/etc'])) ? 'yes' : 'full',
      protectHome: writable.some((d) => isUnder(d, ['/home', '/root', '/run/user'])) ? 'no' : 'read-only',
      privateTmp: writable.some((d) => isUnder(d, ['/tmp', '/var/tmp'])) ? 'no' : 'yes',
    },
    unitName,
  );
  const enable = o.template ? `${o.name}@${escapeUnitInstance((o.queues ?? ['default']).join(','))}.service` : unitName;
  return { fileName: unitName, text, nextCommands: [`systemctl daemon-reload && systemctl enable --now ${shellQuote(enable)}`] };
}
