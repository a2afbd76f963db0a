import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { INDEX_PREFIX } from './compile-index.js';

// Where compiled job files live: <the app's node_modules>/.cache/jobs-runtime/<key>/, the key a
// hash of the compiled files, so an edited job file gets a new directory at the next start and
// an unchanged one finds its directory already there. Inside node_modules, a bare import in
// compiled code finds the same packages as it did from the source file.
//
// Several runtimes may share the root (a rolling deploy runs old and new code side by side):
// a directory appears whole (written aside, then renamed), and is removed only once no runtime
// has touched it for STALE_MS; each running runtime touches its own every TOUCH_EVERY_MS, since
// a thread that replaces a dead one imports the compiled files again.

const STALE_MS = 3 * 24 * 3600_000;
const TOUCH_EVERY_MS = 3600_000;
/** Left behind by a runtime that died while writing or removing. */
const LEFTOVER_MS = 3600_000;
const KEY = /^[0-9a-f]{16}$/;

/** The cache root for a jobs directory: under the nearest node_modules above it, or null if there is none. */
export function cacheRoot(jobsDir: string): string | null {
  for (let dir = jobsDir; ; dir = dirname(dir)) {
    const nodeModules = join(dir, 'node_modules');
    if (existsSync(nodeModules)) return join(nodeModules, '.cache', 'jobs-runtime');
    if (dirname(dir) === dir) return null;
  }
}

/** Any path at the depth of a cache directory under `root` (source maps point from there). */
export const cacheDepthDir = (root: string): string => join(root, '0'.repeat(16));

export interface CacheDir {
  dir: string;
  /** It was there already: the same compiled files, from an earlier start or a peer. */
  reused: boolean;
}

/** The directory holding exactly `files`, written now unless it exists. */
export function writeCacheDir(root: string, files: Map<string, string>): CacheDir {
  const dir = join(root, contentKey(files));
  if (existsSync(dir)) {
    touch(dir);
    return { dir, reused: true };
  }
  mkdirSync(root, { recursive: true });
  const tmp = mkdtempSync(join(root, '.tmp-'));
  for (const [name, text] of files) writeFileSync(join(tmp, name), text);
  try {
    renameSync(tmp, dir);
    return { dir, reused: false };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // A peer with the same code renamed its copy first: the same files.
    if (existsSync(dir)) return { dir, reused: true };
    throw e;
  }
}

/** Removes other runtimes' directories unused for days, and leftovers; never fails the start. */
export function pruneCache(root: string, keep: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(root, name);
    if (path === keep) continue;
    try {
      const age = now - statSync(path).mtimeMs;
      if (name.startsWith('.tmp-') || name.startsWith('.trash-')) {
        if (age > LEFTOVER_MS) rmSync(path, { recursive: true, force: true });
      } else if (name.startsWith(INDEX_PREFIX) && age > STALE_MS) {
        rmSync(path, { force: true }); // at worst, the next start of those files compiles again
      } else if (KEY.test(name) && age > STALE_MS) {
        // Renamed first, so it disappears whole: a peer sees it complete or not at all.
        const trash = join(root, `.trash-${randomBytes(6).toString('hex')}`);
        renameSync(path, trash);
        rmSync(trash, { recursive: true, force: true });
      }
    } catch {
      // a peer removed or pruned it first
    }
  }
}

/** Keeps `dir` from being pruned while this runtime runs; returns the stop. */
export function keepAlive(dir: string): () => void {
  const timer = setInterval(() => touch(dir), TOUCH_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function touch(dir: string): void {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // removed (node_modules reinstalled): threads fall back to the sources
  }
}

function contentKey(files: Map<string, string>): string {
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort()) hash.update(`${name}\0${files.get(name)}\0`);
  return hash.digest('hex').slice(0, 16);
}
