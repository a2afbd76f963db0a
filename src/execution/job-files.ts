import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

// Which files in a jobs directory are job files, and under which handler name: one rule for the
// thread's preload and for the master's TypeScript compile.

export const JOB_FILE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs', '.cts'];

export interface JobFile {
  /** `Mail` for `<jobsDir>/Mail.ts`, `billing/Invoice` for `<jobsDir>/billing/Invoice.ts`. */
  handler: string;
  /** Absolute path. */
  file: string;
}

/** Job files in `jobsDir` and its sub-folders; declarations (.d.ts) and node_modules left out. A missing directory has none. */
export function listJobFiles(jobsDir: string): JobFile[] {
  let names: string[];
  try {
    names = readdirSync(jobsDir, { recursive: true, encoding: 'utf8' });
  } catch {
    return []; // a missing directory is reported by the CLI
  }
  return names
    .filter((f) => JOB_FILE_EXTENSIONS.includes(extname(f)) && !/\.d\.[cm]?ts$/.test(f))
    .map((f) => ({ handler: f.slice(0, -extname(f).length).split('\\').join('/'), file: join(jobsDir, f) }))
    .filter(({ handler }) => !handler.split('/').includes('node_modules'));
}
