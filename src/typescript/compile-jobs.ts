import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { listJobFiles } from '../execution/job-files.js';
import type { Logger } from '../runtime/logger.js';
import { cacheDepthDir, cacheRoot, keepAlive, pruneCache, writeCacheDir } from './compile-cache.js';
import { compileTypeScript } from './esbuild-compile.js';
import { isTypeScriptSource } from './module-format.js';

// The master compiles the jobs directory's TypeScript files once, before the threads start, so
// that threads import plain JavaScript instead of each loading tsx (about 20 MB a thread). A
// .js-only app never gets here past the file listing. Whatever goes wrong here, the threads
// still run every job: a file missing from the manifest is loaded with tsx, as before.

export interface CompiledJobs {
  /** Job file (absolute) → its compiled file, for the threads. */
  manifest: Record<string, string>;
  /** Stops keeping the cache directory fresh (call when the runtime stops). */
  close(): void;
}

export async function compileTypeScriptJobs(jobsDir: string, log: Logger): Promise<CompiledJobs | null> {
  const sources = listJobFiles(jobsDir)
    .map((j) => j.file)
    .filter((f) => isTypeScriptSource(f) && isFile(f));
  if (sources.length === 0) return null;
  const root = cacheRoot(jobsDir);
  if (!root) {
    log.warn(`No node_modules folder above ${jobsDir} to keep compiled job files in: each thread loads the TypeScript job files with tsx`);
    return null;
  }
  const started = performance.now();
  try {
    const set = await compileTypeScript(sources, { outDir: cacheDepthDir(root), ...tsxTsconfig() });
    const { dir, reused } = writeCacheDir(root, set.files);
    pruneCache(root, dir);
    for (const message of set.errors.values()) log.warn(`${message} (the jobs that import it fail until it is fixed and the runtime restarted)`);
    log.info(
      `Compiled ${sources.length} TypeScript job file(s) for the threads in ${Math.round(performance.now() - started)} ms (${reused ? 'unchanged since' : 'new in'} ${dir})`,
    );
    const manifest = Object.fromEntries([...set.compiled].map(([source, name]) => [source, join(dir, name)]));
    return { manifest, close: keepAlive(dir) };
  } catch (e) {
    log.warn(`Could not compile the TypeScript job files (${(e as Error)?.message ?? String(e)}): each thread loads them with tsx`);
    return null;
  }
}

/**
 * The tsconfig.json tsx would use: $TSX_TSCONFIG_PATH, else the nearest one above the working
 * directory. With none, no tsconfig applies (as with tsx), not one found next to the sources.
 */
function tsxTsconfig(): { tsconfig: string } | { tsconfigRaw: string } {
  if (process.env.TSX_TSCONFIG_PATH) return { tsconfig: resolve(process.env.TSX_TSCONFIG_PATH) };
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const file = join(dir, 'tsconfig.json');
    if (existsSync(file)) return { tsconfig: file };
    if (dirname(dir) === dir) return { tsconfigRaw: '{}' };
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
