// Copies the dashboard's static files next to its compiled code (dist/src/dashboard/assets/):
// its own CSS and script, and htmx from its npm package, so an installed package serves them
// itself with no CDN and no htmx dependency at run time. Run after tsc by `npm run build` and
// by scripts/prepare.mjs.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const from = join(root, 'src', 'dashboard', 'assets');
const to = join(root, 'dist', 'src', 'dashboard', 'assets');
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
copyFileSync(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'), join(to, 'htmx.min.js'));
