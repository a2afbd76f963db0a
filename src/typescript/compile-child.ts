import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { cacheDepthDir, pruneCache, writeCacheDir } from './compile-cache.js';
import { compileTypeScript } from './esbuild-compile.js';

// Run by the master as `node compile-child.js` with a CompileRequest on stdin; prints a
// CompileReply. A process of its own, because loading esbuild's API costs about 10 MB of RSS
// that the master would keep for its whole life.

export interface CompileRequest {
  sources: string[];
  /** The cache root (see compile-cache.ts). */
  root: string;
}

export interface CompileReply {
  dir: string;
  reused: boolean;
  /** Source → compiled file (absolute). */
  compiled: Record<string, string>;
  /** Why files do not compile, each naming file and line. */
  errors: string[];
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

async function main(request: CompileRequest): Promise<CompileReply> {
  const set = await compileTypeScript(request.sources, { outDir: cacheDepthDir(request.root), ...tsxTsconfig() });
  const { dir, reused } = writeCacheDir(request.root, set.files);
  pruneCache(request.root, dir);
  const compiled = Object.fromEntries([...set.compiled].map(([source, name]) => [source, join(dir, name)]));
  return { dir, reused, compiled, errors: [...set.errors.values()] };
}

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
try {
  process.stdout.write(JSON.stringify(await main(JSON.parse(input) as CompileRequest)));
} catch (e) {
  process.stderr.write((e as Error)?.message ?? String(e));
  process.exitCode = 1;
}
