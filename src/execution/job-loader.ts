import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerNotFoundError } from '../errors.js';
import { assertHandlerName } from '../values/names.js';
import { isTypeScriptFile, registerTypeScript } from './typescript-loader.js';
import { hasRunMethod, type RunnableJobClass } from './run-one-job.js';
import { JOB_FILE_EXTENSIONS as EXTENSIONS, listJobFiles } from './job-files.js';
import { compiledFileFor } from './compiled-jobs.js';

type JobClass = RunnableJobClass;

// Only successes are cached: a file deployed after a failed lookup is found on the next job.
const cache = new Map<string, JobClass>();
// The thread's preload of every job file, while it runs: a lookup that finds no file waits for
// it before looking for a hint among the classes it imported.
let preloading: Promise<void> | null = null;
// Bounded: a job file whose import never ends must not turn an unknown handler into a load timeout.
const HINT_WAIT_MS = 5_000;
/** How long the preload waits for one file's import before going on to the next. */
export const PRELOAD_WAIT_MS = 5_000;

/** Finds and imports `<jobsDir>/<handler>.{ts,js,…}` and returns its job class. */
export async function loadJobClass(jobsDir: string, handler: string): Promise<JobClass> {
  return load(jobsDir, handler, true);
}

async function load(jobsDir: string, handler: string, hint: boolean): Promise<JobClass> {
  const cached = cache.get(handler);
  if (cached) return cached;
  // Names from the table are checked again: never a path outside jobsDir. A bad name is as
  // final as a missing file: no retry can fix it.
  try {
    assertHandlerName(handler);
  } catch (e) {
    throw new HandlerNotFoundError((e as Error).message);
  }
  const file = EXTENSIONS.map((ext) => join(jobsDir, handler + ext)).find((f) => existsSync(f));
  if (!file) {
    if (hint && preloading) await waitAtMost(preloading, HINT_WAIT_MS);
    throw new HandlerNotFoundError(
      `Unknown job handler '${handler}': no file ${handler}{${EXTENSIONS.join(',')}} in ${jobsDir}${hint ? subFolderHint(handler) : ''}`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    // A TypeScript file the master compiled is imported as JavaScript; one it did not (added
    // since the start, or no cache) is loaded with tsx, as it always was.
    const compiled = isTypeScriptFile(file) ? compiledFileFor(file) : null;
    if (isTypeScriptFile(file) && !compiled) await registerTypeScript();
    mod = (await import(pathToFileURL(compiled ?? file).href)) as Record<string, unknown>;
  } catch (e) {
    const err = e as Error;
    throw new HandlerNotFoundError(`Job handler '${handler}' failed to load from ${file}: ${err?.message ?? String(e)}`);
  }
  const cls = pickClass(mod, basename(handler));
  if (!cls) {
    throw new HandlerNotFoundError(`Job handler '${handler}' in ${file} exports no job class: export default a class with a run() (or execute()) method`);
  }
  cache.set(handler, cls);
  return cls;
}

/** Lets the pool see which file a thread's preload is importing, and skip one that froze a thread. */
export interface PreloadWatch {
  skip(handler: string): boolean;
  begin(handler: string): void;
  end(): void;
  /** The preload is over. */
  done(): void;
}

/**
 * Imports every job file in `jobsDir` ahead of its first job, so no job waits for its code to
 * load (tens of ms, more for TypeScript). Files that fail to load are skipped here: the job
 * that names one gets the error. Declarations (.d.ts) and non-job names are never imported.
 */
export async function preloadJobClasses(jobsDir: string, watch?: PreloadWatch): Promise<void> {
  const handlers = listJobFiles(jobsDir).map((j) => j.handler);
  preloading = (async () => {
    for (const handler of handlers) {
      if (watch?.skip(handler)) continue;
      watch?.begin(handler);
      // One that awaits something that never comes is left pending: the preload moves on.
      await waitAtMost(
        load(jobsDir, handler, false).then(
          () => undefined,
          () => undefined,
        ),
        PRELOAD_WAIT_MS,
      );
      watch?.end();
    }
    watch?.done();
  })();
  await preloading;
  preloading = null;
}

/**
 * A class dispatched from a sub-folder's file without `static handler` is stored under its class
 * name: name the file that holds it and the line it needs.
 */
function subFolderHint(handler: string): string {
  const found = [...cache].find(([path, cls]) => path !== handler && cls.name === handler)?.[0];
  return found
    ? `; ${found} holds class ${handler}: a job in a sub-folder needs \`static handler = '${found}'\` in its class (jobs already stored as '${handler}' must be dispatched again)`
    : '';
}

async function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function isJobClass(v: unknown): v is JobClass {
  return typeof v === 'function' && hasRunMethod(v as JobClass);
}

function pickClass(mod: Record<string, unknown>, name: string): JobClass | undefined {
  const def = mod.default as Record<string, unknown> | undefined;
  // ESM default export, CommonJS interop (module.exports.default), or a named export.
  return [def, def?.default, mod[name], def?.[name]].find(isJobClass);
}
