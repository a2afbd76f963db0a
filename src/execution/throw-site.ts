import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where a job's error was thrown, for its ✖ line: the first frame of its stack in the app's own
// code (not Node's internals, not a package in node_modules, not this runtime), as
// `jobs/SendMail.ts:14:11` relative to the working directory. Stacks of TypeScript jobs are
// source-mapped, so the frame names the .ts file.

/** This runtime's own code, run from dist/ or from its sources. */
const OWN_DIRS = ((): string[] => {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return ['src', 'dist', 'workers'].map((d) => join(root, d) + sep);
})();
// "    at fn (/path/file.ts:14:11)" or "    at /path/file.ts:14:11" or "    at file:///path/file.ts:14:11"
const FRAME = /^\s+at (?:.*? \()?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?$/;

export function throwSite(stack: string | undefined, cwd = process.cwd()): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (!isAbsolute(file) || file.split(sep).includes('node_modules') || OWN_DIRS.some((d) => file.startsWith(d))) continue;
    const shown = relative(cwd, file);
    return `${shown.startsWith('..') ? file : shown}:${m[2]}:${m[3]}`;
  }
  return undefined;
}
