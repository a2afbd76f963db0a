import { InvalidInputError } from '../errors.js';
import { controlCharacter } from './validate.js';

// Quoting for systemd unit files (systemd.syntax(7), systemd.service(5), systemd 252):
// - Every value goes through specifier expansion: a literal '%' is written '%%'.
// - A line ending in '\' continues on the next line, and leading/trailing whitespace is
//   stripped, so a raw value may neither end in a backslash nor start or end with whitespace.
// - ExecStart= splits its value into words: "double quotes" group, C escapes (\\ \") are
//   undone, and in the arguments '$VAR' / '${VAR}' are replaced by environment variables
//   ('$$' is a '$'); the program path is taken as it is.
// - WorkingDirectory=, EnvironmentFile=, User=, Group= take the rest of the line as it is.

// Words that need neither quotes nor escapes in ExecStart.
const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

function refuseControl(what: string, value: string): void {
  const bad = controlCharacter(value);
  if (bad) throw new InvalidInputError(`Invalid ${what} ${JSON.stringify(value)}: it contains ${bad}, which a unit file cannot hold`);
}

/** One ExecStart= argument. */
export function execArg(what: string, value: string): string {
  refuseControl(what, value);
  if (PLAIN_WORD.test(value)) return value;
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return `"${escaped}"`;
}

/**
 * ExecStart='s program: unlike the arguments it gets no '$' substitution, and systemd refuses
 * quotes and backslashes in it ("Executable name contains special characters").
 */
export function execPath(what: string, value: string): string {
  refuseControl(what, value);
  if (/["'\\]/.test(value)) {
    throw new InvalidInputError(`Invalid ${what} ${JSON.stringify(value)}: systemd does not run a program whose path holds quotes or backslashes`);
  }
  const escaped = value.replace(/%/g, '%%');
  return PLAIN_WORD.test(value) ? escaped : `"${escaped}"`;
}

/** A whole ExecStart= command line: an absolute program path, then its arguments. */
export function execLine(argv: Array<{ what: string; value: string }>): string {
  return argv.map((a, i) => (i === 0 ? execPath(a.what, a.value) : execArg(a.what, a.value))).join(' ');
}

/** A value that systemd takes as the rest of the line (a path, a user name). */
export function rawValue(what: string, value: string): string {
  refuseControl(what, value);
  if (/^\s|\s$/.test(value)) throw new InvalidInputError(`Invalid ${what} ${JSON.stringify(value)}: systemd strips leading and trailing whitespace`);
  if (value.endsWith('\\')) {
    throw new InvalidInputError(`Invalid ${what} ${JSON.stringify(value)}: it ends with a backslash, which systemd reads as "continued on the next line"`);
  }
  return value.replace(/%/g, '%%');
}

/**
 * A string as a unit-name instance, as `systemd-escape` writes it: letters, digits, ':', '_'
 * and '.' (not first) stay; '/' becomes '-'; every other byte becomes \xNN. '%I' in the
 * unit undoes it.
 */
export function escapeUnitInstance(value: string): string {
  let out = '';
  for (const [i, ch] of [...value].entries()) {
    if (/^[A-Za-z0-9:_]$/.test(ch) || (ch === '.' && i > 0)) out += ch;
    else if (ch === '/') out += '-';
    else for (const byte of Buffer.from(ch, 'utf8')) out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
