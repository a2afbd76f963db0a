import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The tsconfig.json tsx would use: $TSX_TSCONFIG_PATH, else the nearest one above the working
 * directory; null for none, in which case no tsconfig applies (as with tsx), not even one found
 * next to the sources.
 */
export function tsxTsconfig(): string | null {
  if (process.env.TSX_TSCONFIG_PATH) return resolve(process.env.TSX_TSCONFIG_PATH);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const file = join(dir, 'tsconfig.json');
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return null;
  }
}
