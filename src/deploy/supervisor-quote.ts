import { InvalidInputError } from '../errors.js';
import { controlCharacter } from './validate.js';

// Quoting for supervisor program files (supervisor 4, Python 3's configparser underneath):
// - configparser strips a value's leading and trailing whitespace, and cuts it at ';' or '#'
//   when whitespace precedes them (an inline comment). There is no escape for that in plain
//   values, so such a value is refused; in command= the characters are backslash-escaped.
// - supervisor then expands Python '%(name)s' formats in every value: '%' is written '%%'
//   (and '%%%%' in stdout_logfile, which it expands twice).
// - command= is split into words with shlex (POSIX mode, no comments): whitespace separates,
//   quotes group, and a backslash outside quotes makes the next character literal.

function refuseControl(what: string, value: string): void {
  const bad = controlCharacter(value);
  if (bad) throw new InvalidInputError(`Invalid ${what} ${JSON.stringify(value)}: it contains ${bad}, which a supervisor file cannot hold`);
}

const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/**
 * One shlex word. Each special character gets its own backslash rather than the word being
 * quoted: so a ';' or '#' is always preceded by '\', never by whitespace, and configparser
 * cannot mistake it for a comment.
 */
export function commandArg(what: string, value: string): string {
  refuseControl(what, value);
  if (value === '') return "''";
  if (/\s$/.test(value)) throw new InvalidInputError(`Invalid ${what} ${JSON.stringify(value)}: supervisor strips trailing whitespace`);
  if (PLAIN_WORD.test(value)) return value;
  return value.replace(/[\s'"\\;#]/g, (c) => `\\${c}`).replace(/%/g, '%%');
}

export function commandLine(argv: Array<{ what: string; value: string }>): string {
  return argv.map((a) => commandArg(a.what, a.value)).join(' ');
}

/**
 * A value supervisor takes as it is (a directory, a log file). `expansions` is how many times
 * supervisor applies '%' formatting to it: stdout_logfile gets it twice (once when read, once
 * more per process, in every supervisor release to date), so its '%' is written '%%%%'.
 */
export function rawValue(what: string, value: string, expansions: 1 | 2 = 1): string {
  refuseControl(what, value);
  if (/^\s|\s$/.test(value)) throw new InvalidInputError(`Invalid ${what} ${JSON.stringify(value)}: supervisor strips leading and trailing whitespace`);
  const comment = /\s[;#]/.exec(value);
  if (comment) {
    throw new InvalidInputError(
      `Invalid ${what} ${JSON.stringify(value)}: supervisor's config parser would cut it at '${comment[0]}' (an inline comment); rename the path`,
    );
  }
  return value.replace(/%/g, expansions === 2 ? '%%%%' : '%%');
}
