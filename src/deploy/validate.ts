import { resolve } from 'node:path';
import { InvalidInputError } from '../errors.js';

// Checks shared by both unit formats. Each names the option and the problem; the format-specific
// rules (what each file's parser would misread) live beside the quoting in systemd-quote.ts and
// supervisor-quote.ts.

// A unit/program name: it becomes a file name, a systemd unit name and a supervisor section,
// so only characters all three take as they are.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function assertServiceName(name: string): void {
  if (/\.(service|conf)$/.test(name)) {
    throw new InvalidInputError(`Invalid --name '${name}': give it without the '.service' or '.conf' ending (that is added)`);
  }
  if (!NAME.test(name)) {
    throw new InvalidInputError(
      `Invalid --name ${JSON.stringify(name)}: use 1 to 64 characters from letters, digits, '_', '.', '-', starting with a letter or digit`,
    );
  }
}

// POSIX user and group names: the portable filename characters, not starting with '-' (and
// not all digits, which systemd and supervisor would take as a numeric id).
const ACCOUNT = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

export function assertAccountName(option: string, value: string): void {
  if (!ACCOUNT.test(value)) {
    throw new InvalidInputError(
      `Invalid ${option} ${JSON.stringify(value)}: a user or group name is 1 to 32 characters from letters, digits, '_', '.', '-', ` +
        `starting with a letter or '_'`,
    );
  }
}

/** Names the first control character in a value (newline, NUL, tab, ...), or null. */
export function controlCharacter(value: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const m = /[\u0000-\u001f\u007f-\u009f]/.exec(value);
  if (!m) return null;
  const names: Record<string, string> = { '\n': 'a newline', '\r': 'a carriage return', '\t': 'a tab', '\u0000': 'a NUL byte' };
  return names[m[0]] ?? `the control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
}

/**
 * An absolute, normalised path. Control characters are refused: in a unit file a newline would
 * end the setting and start a new one, whatever the quoting.
 */
export function absolutePath(option: string, value: string, base = process.cwd()): string {
  if (value.trim() === '') throw new InvalidInputError(`Invalid ${option}: the path is empty`);
  const bad = controlCharacter(value);
  if (bad) throw new InvalidInputError(`Invalid ${option} ${JSON.stringify(value)}: it contains ${bad}, which a unit file cannot hold`);
  const path = resolve(base, value);
  if (/\s$/.test(path)) {
    throw new InvalidInputError(`Invalid ${option} ${JSON.stringify(value)}: it ends with whitespace, which unit files strip from a value`);
  }
  return path;
}
