// npm's `prepare` script: builds dist/ wherever npm builds a package from its source.
// - A clone with its dev dependencies (`npm ci` in it, `npm pack`, npm preparing a git URL
//   dependency): compile with tsc, so dist/ always matches the source.
// - A fresh clone given to an app as a local path (`npm install ../jobs-runtime`): npm links the
//   folder and installs none of its dependencies, so there is no tsc, and the linked code could
//   not find its own dependencies either. Do what npm does for a git dependency: `npm ci` in the
//   clone (its lockfile, dev dependencies included), whose own `prepare` then builds dist/.
// Tarballs (`npm pack`, a registry) ship dist/, and npm never runs `prepare` when installing them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js'));
const NESTED = 'JOBS_RUNTIME_PREPARE_NESTED';

function run(command, args, env = process.env) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (existsSync(tsc)) {
  run(process.execPath, [tsc, '-p', '.']);
  run(process.execPath, [join(root, 'scripts', 'copy-dashboard-assets.mjs')]);
} else if (built) {
  // Built already, by an install that had the dev dependencies: nothing to do.
} else if (!existsSync(join(root, 'node_modules')) && !process.env[NESTED] && process.env.npm_execpath) {
  process.stderr.write(
    `jobs-runtime: ${root} has no dependencies installed (npm links a local folder without them): running npm ci there, which builds dist/\n`,
  );
  run(process.execPath, [process.env.npm_execpath, 'ci', '--include=dev', '--no-audit', '--no-fund'], { ...process.env, [NESTED]: '1' });
} else {
  process.stderr.write(
    `jobs-runtime: cannot build dist/ in ${root}: TypeScript (a dev dependency) is not installed there. Run \`npm ci\` in that folder, then install it again.\n`,
  );
  process.exit(1);
}
