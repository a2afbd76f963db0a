// install:systemd and install:supervisor for another host, and the options each one offers.
// A unit prepared with --print or --output (on a build machine, for a deploy) may name an app
// directory, log directory and env file that exist only on the target host: each is a warning
// saying what that host needs, not a refusal. Written into this machine's system directory,
// the unit runs here, and a missing path is still refused. The commands run as an operator
// runs them: the bin executed through its own shebang, which is where Node 20 used to catch a
// missing --env-file itself (`node: <file>: not found`, exit 9).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN } from './helpers/cli.ts';

let root: string;
/** A directory of the target host, absent here. */
const ELSEWHERE = '/srv/jr-test-elsewhere-4f1c/shop';

before(() => {
  root = mkdtempSync(join(tmpdir(), 'jr-deploy-host-'));
  assert.equal(existsSync(ELSEWHERE), false);
});

after(() => rmSync(root, { recursive: true, force: true }));

/** The bin as a command, as `jobs-runtime …` from a shell or npx runs it. */
function jobsRuntime(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { cwd: root, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('jobs-runtime: warning: '));

describe('a unit for another host', () => {
  test('install:systemd --print: --dir, --log and --env-file missing here are warnings, and the unit names them', () => {
    const r = jobsRuntime([
      'install:systemd',
      '--print',
      '--user',
      'root',
      '--dir',
      ELSEWHERE,
      '--env-file',
      `${ELSEWHERE}/.env`,
      '--log',
      '/var/log/jr-test-elsewhere-4f1c/worker.log',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^WorkingDirectory=${ELSEWHERE}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^EnvironmentFile=-${ELSEWHERE}/\\.env$`, 'm'));
    assert.match(r.stdout, /--log \/var\/log\/jr-test-elsewhere-4f1c\/worker\.log --quiet$/m);
    assert.deepEqual(warnings(r.stderr), [
      `jobs-runtime: warning: --dir ${ELSEWHERE} does not exist on this machine: fine for a unit meant for another host, where it must exist before the unit starts (its working directory)`,
      'jobs-runtime: warning: --log /var/log/jr-test-elsewhere-4f1c/worker.log: the directory /var/log/jr-test-elsewhere-4f1c does not exist on this machine; it must exist on the host that runs the unit',
      `jobs-runtime: warning: --env-file ${ELSEWHERE}/.env does not exist on this machine: fine for a unit meant for another host, where systemd reads it at every start (while it is missing there, the unit starts without it: EnvironmentFile=-)`,
      'jobs-runtime: warning: the runtime will run as root: pass --user with an unprivileged user (the default is the owner of --dir)',
    ]);
  });

  test('install:supervisor --output: written, with the same warnings (the env file must exist there before the program starts)', () => {
    const out = join(root, 'conf.d');
    mkdirSync(out);
    const r = jobsRuntime(['install:supervisor', '--output', out, '--user', 'www-data', '--dir', ELSEWHERE, `--env-file=${ELSEWHERE}/prod.env`]);
    assert.equal(r.code, 0, r.stderr);
    const conf = readFileSync(join(out, 'jobs-runtime.conf'), 'utf8');
    assert.match(conf, new RegExp(`^directory=${ELSEWHERE}$`, 'm'));
    assert.match(conf, new RegExp(`--env-file=${ELSEWHERE}/prod\\.env `));
    assert.match(conf, new RegExp(`^stdout_logfile=${ELSEWHERE}/worker\\.log$`, 'm'));
    // The log is inside the missing --dir: one warning for both.
    assert.deepEqual(warnings(r.stderr), [
      `jobs-runtime: warning: --dir ${ELSEWHERE} does not exist on this machine: fine for a program meant for another host, where it must exist before the program starts (its working directory)`,
      `jobs-runtime: warning: --env-file ${ELSEWHERE}/prod.env does not exist on this machine: fine for a program meant for another host, but it must exist there before supervisor starts the program (node --env-file=<file> refuses to start without it)`,
    ]);
  });

  test('without --user, a --dir missing here has no owner to default to: refused, asking for --user', () => {
    const r = jobsRuntime(['install:systemd', '--print', '--dir', ELSEWHERE]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`--dir ${ELSEWHERE} does not exist on this machine, so it has no owner to run as: give the user with --user\\n$`));
  });
});

describe('a unit for this machine', () => {
  test("written into this machine's system directory, a missing --dir, --log directory or --env-file is refused, and nothing is written", () => {
    const app = join(root, 'app');
    mkdirSync(app);
    const name = 'jr-test-host-4f1c';
    const cases: Array<[string, string[], string]> = [
      [
        'install:systemd',
        ['--dir', ELSEWHERE],
        `--dir ${ELSEWHERE} does not exist: create it first, or prepare a unit for another host with --print or --output`,
      ],
      [
        'install:systemd',
        ['--dir', app, '--log', join(app, 'logs', 'w.log')],
        `--log ${join(app, 'logs', 'w.log')}: the directory ${join(app, 'logs')} does not exist`,
      ],
      [
        'install:systemd',
        ['--dir', app, '--env-file', join(app, 'prod.env')],
        `--env-file ${join(app, 'prod.env')} does not exist: create it first (the unit reads it at every start, and would start without those settings)`,
      ],
      [
        'install:supervisor',
        ['--dir', app, '--env-file', join(app, 'prod.env')],
        `--env-file ${join(app, 'prod.env')} does not exist: create it first (the program runs node --env-file=<file>, which refuses to start without it)`,
      ],
    ];
    for (const [command, args, message] of cases) {
      const r = jobsRuntime([command, '--name', name, '--user', 'nobody', ...args]);
      // The tool's own message and exit code, not Node's `node: <file>: not found` (exit 9).
      assert.equal(r.code, 1, `${command} ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `jobs-runtime: ${message}\n`);
    }
    assert.equal(existsSync(`/etc/systemd/system/${name}.service`), false);
    assert.equal(existsSync(`/etc/supervisor/conf.d/${name}.conf`), false);
  });

  test('an --env-file that exists is used, in both spellings', () => {
    const env = join(root, 'shop.env');
    writeFileSync(env, 'JOBS_DATABASE_URL=sqlite:./jobs.sqlite\n');
    for (const args of [['--env-file', env], [`--env-file=${env}`]]) {
      const r = jobsRuntime(['install:systemd', '--print', '--user', 'nobody', '--dir', root, ...args]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^EnvironmentFile=-${env}$`, 'm'));
      assert.deepEqual(
        warnings(r.stderr).filter((w) => w.includes('--env-file')),
        [],
      );
    }
  });
});

describe('install --help and behaviour agree', () => {
  test('install:supervisor does not offer --group, and refuses it with the reason; install:systemd offers it', () => {
    const help = jobsRuntime(['install:supervisor', '--help']);
    assert.equal(help.code, 0);
    assert.doesNotMatch(help.stdout, /--group/);
    assert.match(help.stdout, /--user <user>/);
    const refused = jobsRuntime(['install:supervisor', '--print', '--user', 'nobody', '--dir', root, '--group', 'app']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /install:supervisor has no --group: supervisor runs a program with the primary group/);
    assert.equal(refused.stdout, '');

    const systemd = jobsRuntime(['install:systemd', '--help']);
    assert.match(systemd.stdout, /--group <group> +group the runtime runs as/);
    const withGroup = jobsRuntime(['install:systemd', '--print', '--user', 'nobody', '--dir', root, '--group', 'nogroup']);
    assert.equal(withGroup.code, 0, withGroup.stderr);
    assert.match(withGroup.stdout, /^Group=nogroup$/m);
  });
});
