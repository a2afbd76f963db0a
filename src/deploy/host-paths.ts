import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { isUnder } from './deploy-options.js';

// The paths a unit names (--dir, --log's directory, --env-file), checked on this machine.
// A unit written into this machine's own system directory runs here: a missing path is an
// error now rather than a unit that fails at start. With --print or --output the unit may be
// meant for another host (a build machine preparing a deploy), where the paths exist though
// they do not exist here: each missing one is a warning saying what the other host needs.

export interface HostPaths {
  dir: string;
  log: string;
  envFile: string | null;
  format: 'systemd' | 'supervisor';
  /** false with --print or --output: the unit may be for another host. */
  forThisHost: boolean;
}

/** Throws for what cannot work anywhere (or here, for this host); returns the warnings. */
export function checkHostPaths(p: HostPaths): string[] {
  const warnings: string[] = [];
  const unit = p.format === 'systemd' ? 'unit' : 'program';
  const missing = (option: string, path: string, refusal: string, warning: string) => {
    if (p.forThisHost) throw new InvalidInputError(`${option} ${path} does not exist: ${refusal}`);
    warnings.push(`${option} ${path} does not exist on this machine: fine for a ${unit} meant for another host, ${warning}`);
  };

  const dirMissing = !existsSync(p.dir);
  if (dirMissing) {
    missing(
      '--dir',
      p.dir,
      'create it first, or prepare a unit for another host with --print or --output',
      `where it must exist before the ${unit} starts (its working directory)`,
    );
  } else if (!statSync(p.dir).isDirectory()) throw new InvalidInputError(`--dir ${p.dir} is not a directory`);

  const logDir = dirname(p.log);
  // A log inside a missing --dir needs no second message.
  if (!existsSync(logDir) && !(dirMissing && isUnder(p.log, [p.dir]))) {
    if (p.forThisHost) throw new InvalidInputError(`--log ${p.log}: the directory ${logDir} does not exist`);
    warnings.push(`--log ${p.log}: the directory ${logDir} does not exist on this machine; it must exist on the host that runs the ${unit}`);
  }

  if (p.envFile !== null && !existsSync(p.envFile)) {
    if (p.format === 'systemd') {
      missing(
        '--env-file',
        p.envFile,
        'create it first (the unit reads it at every start, and would start without those settings)',
        'where systemd reads it at every start (while it is missing there, the unit starts without it: EnvironmentFile=-)',
      );
    } else {
      missing(
        '--env-file',
        p.envFile,
        'create it first (the program runs node --env-file=<file>, which refuses to start without it)',
        'but it must exist there before supervisor starts the program (node --env-file=<file> refuses to start without it)',
      );
    }
  }
  return warnings;
}
