import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '../errors.js';

/** Writes a rendered unit into `dir`; an existing file is kept unless `force`. */
export function writeUnit(dir: string, fileName: string, text: string, force: boolean): string {
  const path = join(dir, fileName);
  try {
    // 'wx' fails if the file exists: no window between a check and the write.
    writeFileSync(path, text, { flag: force ? 'w' : 'wx', mode: 0o644 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InvalidInputError(`${path} already exists: use --force to overwrite it`);
    if (code === 'EACCES' || code === 'EPERM') {
      throw new InvalidInputError(`Cannot write ${path}: permission denied (run as root, or use --output DIR or --print)`);
    }
    if (code === 'ENOENT') throw new InvalidInputError(`Cannot write ${path}: the directory ${dir} does not exist`);
    throw e;
  }
  return path;
}
