import { createHash } from 'node:crypto';
import { basename, dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure, Message, OnResolveArgs, OnResolveResult, Plugin, PluginBuild } from 'esbuild';
import { isTypeScriptSource, type ModuleFormat, moduleFormat, scopePackageJson } from './module-format.js';

// Compiles TypeScript files with esbuild, in memory, one output file per source file (as tsx
// does when it loads them), so every module stays one instance per thread: an import of another
// TypeScript file becomes an import of its compiled sibling (compiled too, found by following
// imports); an import of a .js/.json file or of a package stays an import of the same file or
// package, resolved by Node at run time as before. import.meta.url, __dirname and __filename
// name the source file. Each output links its source map, so stack traces name the .ts file.

export interface CompiledSet {
  /** File name in the cache directory → contents (compiled modules and their .map files). */
  files: Map<string, string>;
  /** Source file → its compiled file's name, for the files asked for (not their imports). */
  compiled: Map<string, string>;
  /** Source file → why it does not compile, naming file and line (its compiled file throws that when imported). */
  errors: Map<string, string>;
  /** Every file the output depends on: sources, inlined JSON, the package.json giving each source its format. */
  inputs: Set<string>;
}

export interface CompileOptions {
  /** Any directory at the depth of the cache directory: source map paths are relative to it. */
  outDir: string;
  /** The tsconfig.json tsx would use (compile options, `paths`)... */
  tsconfig?: string;
  /** ...or, with none, '{}': no tsconfig found next to a source applies. */
  tsconfigRaw?: string;
}

const EXTENSION: Record<ModuleFormat, string> = { esm: '.mjs', cjs: '.cjs' };

/** The compiled file's name: readable, and unique per source path. */
export function compiledName(source: string): string {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  return `${basename(source, extname(source))}-${hash}${EXTENSION[moduleFormat(source)]}`;
}

export async function compileTypeScript(sources: string[], options: CompileOptions): Promise<CompiledSet> {
  const esbuild = await import('esbuild');
  const set: CompiledSet = { files: new Map(), compiled: new Map(), errors: new Map(), inputs: new Set() };
  const seen = new Set<string>(sources);
  let wave = [...seen];
  try {
    // Each file is its own build (its own define); imports of TypeScript files found there are compiled next.
    while (wave.length > 0) {
      const found = new Set<string>();
      await Promise.all(wave.map((source) => compileOne(esbuild.build, source, options, set, found)));
      wave = [...found].filter((f) => !seen.has(f));
      for (const f of wave) seen.add(f);
    }
  } finally {
    await esbuild.stop(); // the esbuild service is a child process: none stays behind
  }
  for (const source of sources) set.compiled.set(source, compiledName(source));
  return set;
}

async function compileOne(build: typeof import('esbuild').build, source: string, options: CompileOptions, set: CompiledSet, found: Set<string>): Promise<void> {
  const format = moduleFormat(source);
  const name = compiledName(source);
  set.inputs.add(source);
  const scope = scopePackageJson(source);
  if (scope) set.inputs.add(scope);
  const url = pathToFileURL(source).href;
  try {
    const result = await build({
      entryPoints: [source],
      bundle: true, // for the resolver: the plugin keeps every import outside this file
      write: false,
      format,
      platform: 'node',
      target: `node${process.versions.node}`,
      outfile: join(options.outDir, name),
      sourcemap: 'linked',
      sourcesContent: false,
      keepNames: true, // as tsx: class names are handler names
      // Node's own resolution conditions and fields, not the bundlers' ("module").
      conditions: [],
      mainFields: ['main'],
      logLevel: 'silent',
      metafile: true,
      ...(options.tsconfig ? { tsconfig: options.tsconfig } : { tsconfigRaw: options.tsconfigRaw ?? '{}' }),
      define: {
        'import.meta.url': JSON.stringify(url),
        'import.meta.filename': JSON.stringify(source),
        'import.meta.dirname': JSON.stringify(dirname(source)),
        __filename: JSON.stringify(source),
        __dirname: JSON.stringify(dirname(source)),
      },
      plugins: [keepImportsOutside(format, found)],
    });
    for (const out of result.outputFiles) set.files.set(basename(out.path), out.text);
    for (const input of Object.keys(result.metafile.inputs)) set.inputs.add(resolve(input));
  } catch (e) {
    // The import fails with the compiler's words, as it did under tsx: `TypeScript error at <file>:<line>:<col>: …`.
    const message = `TypeScript error${describeFailure(e)}`;
    set.errors.set(source, message);
    set.files.set(name, `throw new Error(${JSON.stringify(message)});\n`);
  }
}

/** Every import stays an import: of a compiled sibling for TypeScript, else of what Node would load. */
function keepImportsOutside(format: ModuleFormat, found: Set<string>): Plugin {
  return {
    name: 'jobs-runtime-keep-imports',
    setup(build: PluginBuild) {
      build.onResolve({ filter: /.*/ }, async (args: OnResolveArgs): Promise<OnResolveResult | undefined> => {
        if (args.kind === 'entry-point' || args.pluginData?.inner) return undefined;
        const r = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          with: args.with,
          pluginData: { inner: true },
        });
        const bare = !isFilePath(args.path);
        // Not found now: Node tries again when the import runs, and fails (or not) as it did before.
        if (r.errors.length > 0)
          return bare || args.path.startsWith('file:') ? { path: args.path, external: true } : external(resolve(args.resolveDir, args.path), format);
        if (r.external) return { path: args.path, external: true }; // node: built-ins
        if (isTypeScriptSource(r.path)) {
          found.add(r.path);
          return { path: `./${compiledName(r.path)}`, external: true };
        }
        // A package keeps its bare name: the cache sits in the app's node_modules, where Node finds the same copy.
        if (bare && r.path.split(sep).includes('node_modules')) return { path: args.path, external: true };
        // JSON imported without `with { type: 'json' }` (tsx allows it) is inlined, as Node would refuse it.
        if (extname(r.path) === '.json' && args.with.type !== 'json') return { path: r.path };
        // The app's own .js files, a tsconfig alias, the package itself by name: the very same file.
        return external(r.path, format);
      });
    },
  };
}

function external(target: string, format: ModuleFormat): OnResolveResult {
  return { path: format === 'esm' ? pathToFileURL(target).href : target, external: true };
}

const isFilePath = (spec: string): boolean =>
  spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..' || isAbsolute(spec) || spec.startsWith('file:');

function describeFailure(e: unknown): string {
  const errors = (e as Partial<BuildFailure>)?.errors;
  if (!errors?.length) return `: ${(e as Error)?.message ?? String(e)}`;
  return errors.map(formatMessage).join(';');
}

function formatMessage(m: Message): string {
  return m.location ? ` at ${resolve(m.location.file)}:${m.location.line}:${m.location.column + 1}: ${m.text}` : `: ${m.text}`;
}
