import { runJsonChild } from '../execution/json-child.js';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { listJobFiles } from '../execution/job-files.js';
import type { Logger } from '../runtime/logger.js';
import { cacheRoot, keepAlive, touch } from './compile-cache.js';
import type { CompileReply, CompileRequest } from './compile-child.js';
import { readValidIndex } from './compile-index.js';
import { isTypeScriptSource } from './module-format.js';
import { tsxTsconfig } from './tsx-tsconfig.js';

// The master compiles the jobs directory's TypeScript files once, before the threads start, so
// that threads import plain JavaScript instead of each loading tsx (about 20 MB a thread). A
// .js-only app never gets past the file listing. Whatever goes wrong here, the threads still
// run every job: a file missing from the manifest is loaded with tsx, as before.

const CHILD = fileURLToPath(new URL('./compile-child.js', import.meta.url));
/** A compile that takes longer is given up: the threads use tsx. */
const CHILD_LIMIT_MS = 60_000;

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
  // No input changed since the last compile: nothing to run (a file that failed fails the same way).
  const current = readValidIndex(root, sources, tsxTsconfig());
  if (current) {
    touch(current.dir);
    warnNotCompiling(log, current.errors);
    log.info(`${sources.length} TypeScript job file(s) unchanged since ${current.dir}: not compiled again`);
    return { manifest: current.compiled, close: keepAlive(current.dir) };
  }
  try {
    const reply = await runChild({ sources, root });
    warnNotCompiling(log, reply.errors);
    log.info(
      `Compiled ${sources.length} TypeScript job file(s) for the threads in ${Math.round(performance.now() - started)} ms (${reply.reused ? 'unchanged since' : 'new in'} ${reply.dir})`,
    );
    return { manifest: reply.compiled, close: keepAlive(reply.dir) };
  } catch (e) {
    log.warn(`Could not compile the TypeScript job files (${(e as Error)?.message ?? String(e)}): each thread loads them with tsx`);
    return null;
  }
}

function warnNotCompiling(log: Logger, errors: string[]): void {
  for (const message of errors) log.warn(`${message} (the jobs that import it fail until it is fixed and the runtime restarted)`);
}

function runChild(request: CompileRequest): Promise<CompileReply> {
  return runJsonChild<CompileReply>(request, { script: CHILD, limitMs: CHILD_LIMIT_MS, what: 'the compiler' });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
