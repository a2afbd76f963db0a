// systemd-analyze verify (Debian's systemd package) accepts every unit install:systemd writes:
// the plain unit, the instance template (as is and instantiated), --no-notify, and a node
// binary whose path needs quoting. verify also checks that ExecStart's program exists, which
// the last case relies on, and a unit pointing at a missing program shows it is not a no-op.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, killAll, runCli } from './helpers/cli.ts';
import { renderSystemd } from '../src/deploy/render-systemd.ts';

after(() => killAll());

let root: string;
let app: string;
let out: string;
let envFile: string;

/** Runs verify on one unit file; it needs no running systemd, only --man=no (no man pages here). */
function verify(file: string): { code: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error; // e.g. ENOENT: .ci/run installs Debian's systemd package
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

function assertVerified(file: string): void {
  const r = verify(file);
  assert.equal(r.code, 0, `systemd-analyze verify ${file}:\n${r.output}`);
  assert.equal(r.output, '', `no warnings for ${file}`);
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'jr-deploy-systemd-'));
  app = join(root, `shop app 'q' "dq" 100% $HOME \\x`);
  out = join(root, 'units');
  mkdirSync(app);
  mkdirSync(out);
  envFile = join(app, 'jobs 5%.env');
  writeFileSync(envFile, 'JOBS_DATABASE_URL=sqlite:./jobs.sqlite\n');
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('systemd-analyze verify', () => {
  const install = async (...args: string[]) => {
    const r = await runCli(['install:systemd', '--output', out, '--user', 'root', '--dir', app, '--env-file', envFile, ...args], {
      cwd: root,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
  };

  test('the unit, with every option', async () => {
    await install('--name', 'jr-full', '--group', 'root', '--procs', '4', '--queue', 'emails,default', '--grace', '20', '--log', join(app, 'logs 1%.log'));
    assertVerified(join(out, 'jr-full.service'));
  });

  test('--no-notify', async () => {
    await install('--name', 'jr-exec', '--no-notify');
    assertVerified(join(out, 'jr-exec.service'));
  });

  test('the instance template, as written and as an instance', async () => {
    await install('--name', 'jr-tpl', '--template');
    assertVerified(join(out, 'jr-tpl@.service'));
    const instance = join(out, 'jr-tpl@emails\\x2chigh\\x2dprio.service');
    copyFileSync(join(out, 'jr-tpl@.service'), instance);
    assertVerified(instance);
  });

  test('a node binary whose path needs quotes and escapes', () => {
    // systemd refuses quotes and backslashes in a program path (install refuses them too).
    mkdirSync(join(root, 'node bin 5% $N'));
    const node = join(root, 'node bin 5% $N', 'no de');
    symlinkSync(process.execPath, node);
    const options = {
      name: 'jr-node',
      user: 'root',
      group: null,
      dir: app,
      procs: null,
      queues: null,
      envFile,
      log: join(app, 'worker.log'),
      graceMs: 30_000,
      node,
      bin: BIN,
      template: false,
      notify: true,
    };
    writeFileSync(join(out, 'jr-node.service'), renderSystemd(options).text);
    assertVerified(join(out, 'jr-node.service'));

    // The check is real: the same unit naming a program that is not there fails.
    writeFileSync(join(out, 'jr-missing.service'), renderSystemd({ ...options, name: 'jr-missing', node: join(root, 'no such node') }).text);
    const r = verify(join(out, 'jr-missing.service'));
    assert.notEqual(r.code, 0);
    assert.match(r.output, /no such node/);
  });
});
