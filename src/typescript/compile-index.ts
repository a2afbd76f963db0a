import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Which cache directory the last compile of a set of job files produced, and from which inputs
// (each with its content hash): a start whose inputs all read the same skips the compiler, and
// its ~0.3 s. One index per set of job files (adding a job file makes a new set).

export interface CompileIndex {
  dir: string;
  /** Job file → compiled file (absolute). */
  compiled: Record<string, string>;
  /** The tsconfig.json it was compiled with (null: none). */
  tsconfig: string | null;
  /** Every file the output depends on → its sha256. */
  inputs: Record<string, string>;
  /** Why files did not compile (said again at each start). */
  errors: string[];
}

export const INDEX_PREFIX = 'index-';

function indexFile(root: string, sources: string[]): string {
  const key = createHash('sha256')
    .update([...sources].sort().join('\0'))
    .digest('hex')
    .slice(0, 16);
  return join(root, `${INDEX_PREFIX}${key}.json`);
}

export function hashFile(path: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return null;
  }
}

/** The index of these job files if its directory is there and no input changed; else null. */
export function readValidIndex(root: string, sources: string[], tsconfig: string | null): CompileIndex | null {
  let index: CompileIndex;
  try {
    index = JSON.parse(readFileSync(indexFile(root, sources), 'utf8')) as CompileIndex;
  } catch {
    return null;
  }
  if (index.tsconfig !== tsconfig || !existsSync(index.dir)) return null;
  for (const [path, hash] of Object.entries(index.inputs)) if (hashFile(path) !== hash) return null;
  return Object.values(index.compiled).every((f) => existsSync(f)) ? index : null;
}

/** Written aside, then renamed: a peer reads the old index or the new one, never half of one. */
export function writeIndex(root: string, sources: string[], index: CompileIndex): void {
  const file = indexFile(root, sources);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(index));
  renameSync(tmp, file);
}
