// jobs.config.ts as `npm init -y` apps write it: a package without "type": "module", where
// `export default {…}` arrives as { default: { default: {…} } } through the CommonJS interop.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli } from './helpers/cli.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function app(packageJson: object, config: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'jr-config-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  writeFileSync(join(dir, 'jobs.config.ts'), config);
  return dir;
}

describe('jobs.config.ts', () => {
  for (const [what, pkg] of [
    ['a CommonJS package (npm init -y)', { name: 'app', version: '1.0.0' }],
    ['an ES module package', { name: 'app', version: '1.0.0', type: 'module' }],
  ] as const) {
    test(`export default { … } in ${what} is read by every command`, { timeout: 45_000 }, async () => {
      const dir = app(pkg, "const settings: { databaseUrl: string } = { databaseUrl: 'sqlite:./from-config.sqlite' };\nexport default settings;\n");
      const r = await runCli(['migrate', '--print'], { cwd: dir, env: { JOBS_DATABASE_URL: '' } });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /unknown setting 'default'/);
      const status = await runCli(['status', '--json'], { cwd: dir, env: { JOBS_DATABASE_URL: '' } });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`sqlite:${join(dir, 'from-config.sqlite').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    });
  }
});
