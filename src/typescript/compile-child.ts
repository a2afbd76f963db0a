import { join } from 'node:path';
import { cacheDepthDir, pruneCache, writeCacheDir } from './compile-cache.js';
import { hashFile, writeIndex } from './compile-index.js';
import { compileTypeScript } from './esbuild-compile.js';
import { tsxTsconfig } from './tsx-tsconfig.js';

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

async function main(request: CompileRequest): Promise<CompileReply> {
  const tsconfig = tsxTsconfig();
  const set = await compileTypeScript(request.sources, { outDir: cacheDepthDir(request.root), ...(tsconfig ? { tsconfig } : { tsconfigRaw: '{}' }) });
  const { dir, reused } = writeCacheDir(request.root, set.files);
  pruneCache(request.root, dir);
  const compiled = Object.fromEntries([...set.compiled].map(([source, name]) => [source, join(dir, name)]));
  // Hashed after the compile: an edit made meanwhile makes the next start compile again.
  const inputs = Object.fromEntries([...set.inputs, ...(tsconfig ? [tsconfig] : [])].map((f) => [f, hashFile(f) ?? '']));
  const errors = [...set.errors.values()];
  writeIndex(request.root, request.sources, { dir, compiled, tsconfig, inputs, errors });
  return { dir, reused, compiled, errors };
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
