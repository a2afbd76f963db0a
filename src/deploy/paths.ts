import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Where this installed package lives, found from this module's own file (src/deploy under tsx,
// dist/src/deploy once built): units must name the bin of the package the operator ran, by an
// absolute path, not whatever `jobs-runtime` the service's PATH would find.

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'jobs-runtime') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`Cannot find the jobs-runtime package directory above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The absolute paths a generated unit runs: this node binary and this package's bin. */
export function installedPaths(): { node: string; bin: string } {
  return { node: process.execPath, bin: join(packageRoot(), 'bin', 'jobs-runtime') };
}
