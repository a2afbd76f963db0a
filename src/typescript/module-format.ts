import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

// Whether a TypeScript file is an ES module or CommonJS, by the rule tsx (and Node, for .js)
// applies: .mts is ESM, .cts CommonJS, .ts/.tsx follow the "type" of the nearest package.json.
// Compiled files keep their format, so `require`, `module.exports` and top-level await behave
// as they did when tsx loaded the source.

export type ModuleFormat = 'esm' | 'cjs';

export const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];

export const isTypeScriptSource = (path: string): boolean => TYPESCRIPT_EXTENSIONS.includes(extname(path)) && !/\.d\.[cm]?ts$/.test(path);

/** Package scope of each directory: its package.json (null: none) and the format it gives. */
const scopes = new Map<string, { file: string | null; format: ModuleFormat }>();

export function moduleFormat(file: string): ModuleFormat {
  const ext = extname(file);
  if (ext === '.mts') return 'esm';
  if (ext === '.cts') return 'cjs';
  return packageScope(dirname(file)).format;
}

/** The package.json that decides a file's format (its "type"), if any: an input of its compile. */
export const scopePackageJson = (file: string): string | null => packageScope(dirname(file)).file;

/** Node's package scope lookup: the nearest package.json, never past a node_modules folder. */
function packageScope(dir: string): { file: string | null; format: ModuleFormat } {
  const known = scopes.get(dir);
  if (known) return known;
  let scope: { file: string | null; format: ModuleFormat };
  const file = join(dir, 'package.json');
  const text = readIfExists(file);
  if (text !== null) scope = { file, format: typeOf(text) };
  else if (basename(dir) === 'node_modules' || dirname(dir) === dir) scope = { file: null, format: 'cjs' };
  else scope = packageScope(dirname(dir));
  scopes.set(dir, scope);
  return scope;
}

function typeOf(packageJson: string): ModuleFormat {
  try {
    return (JSON.parse(packageJson) as { type?: unknown }).type === 'module' ? 'esm' : 'cjs';
  } catch {
    return 'cjs'; // Node refuses to load such a package anyway; the import says why
  }
}

function readIfExists(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
