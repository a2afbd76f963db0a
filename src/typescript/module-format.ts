import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

// Whether a TypeScript file is an ES module or CommonJS, by the rule tsx (and Node, for .js)
// applies: .mts is ESM, .cts CommonJS, .ts/.tsx follow the "type" of the nearest package.json.
// Compiled files keep their format, so `require`, `module.exports` and top-level await behave
// as they did when tsx loaded the source.

export type ModuleFormat = 'esm' | 'cjs';

export const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];

export const isTypeScriptSource = (path: string): boolean => TYPESCRIPT_EXTENSIONS.includes(extname(path)) && !/\.d\.[cm]?ts$/.test(path);

const scopeTypes = new Map<string, ModuleFormat>();

export function moduleFormat(file: string): ModuleFormat {
  const ext = extname(file);
  if (ext === '.mts') return 'esm';
  if (ext === '.cts') return 'cjs';
  return packageScopeFormat(dirname(file));
}

/** Node's package scope lookup: the nearest package.json, never past a node_modules folder. */
function packageScopeFormat(dir: string): ModuleFormat {
  const known = scopeTypes.get(dir);
  if (known) return known;
  let format: ModuleFormat;
  const text = readIfExists(join(dir, 'package.json'));
  if (text !== null) format = typeOf(text);
  else if (basename(dir) === 'node_modules' || dirname(dir) === dir) format = 'cjs';
  else format = packageScopeFormat(dirname(dir));
  scopeTypes.set(dir, format);
  return format;
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
