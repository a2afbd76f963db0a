// install:systemd and install:supervisor render units that their own parsers read back as
// meant: every option, hostile values (spaces, quotes, '%', '$', backslashes) round-trip, and
// a newline or '%' can never add a directive. The parsers below follow systemd.syntax(7) and
// Python's configparser + supervisor's '%' expansion + shlex, independently of the renderer.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, killAll, runCli, type CliResult } from './helpers/cli.ts';
import { renderSystemd, type SystemdOptions } from '../src/deploy/render-systemd.ts';
import { renderSupervisor, type SupervisorOptions } from '../src/deploy/render-supervisor.ts';
import { escapeUnitInstance } from '../src/deploy/systemd-quote.ts';
import { absolutePath } from '../src/deploy/validate.ts';

after(() => killAll());

// ---- a systemd unit parser (systemd.syntax(7), systemd.service(5)) ----

type Settings = Array<[string, string]>;

function parseUnit(text: string): Map<string, Settings> {
  const sections = new Map<string, Settings>();
  let current: Settings | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // A trailing backslash continues the setting on the next line (replaced by a space).
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    if (line.startsWith('[')) {
      assert.match(line, /^\[[A-Za-z]+\]$/, `section header: ${line}`);
      current = [];
      sections.set(line.slice(1, -1), current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0 && current, `not a setting inside a section: ${line}`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

function settings(unit: Map<string, Settings>, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

function one(unit: Map<string, Settings>, section: string, key: string): string {
  const all = settings(unit, section, key);
  assert.equal(all.length, 1, `${section}/${key} is set once (got ${JSON.stringify(all)})`);
  return all[0]!;
}

/** Specifier expansion: '%%' is '%'; %i/%I only where the test gives an instance. */
function specifiers(value: string, instance?: { i: string; I: string }): string {
  return value.replace(/%(.)/g, (_, c: string) => {
    if (c === '%') return '%';
    if (instance && (c === 'i' || c === 'I')) return instance[c];
    throw new Error(`unexpected specifier %${c} in ${value}`);
  });
}

function cEscape(s: string, i: number): [string, number] {
  const c = s[i + 1];
  const simple: Record<string, string> = { '\\': '\\', '"': '"', "'": "'", n: '\n', t: '\t', s: ' ' };
  if (c !== undefined && c in simple) return [simple[c]!, i + 2];
  if (c === 'x') return [String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16)), i + 4];
  throw new Error(`unknown escape \\${c} in ${s}`);
}

/** ExecStart= words: quotes, C escapes, then '$$' → '$' (any other '$' would be substituted). */
function splitExec(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (i >= value.length) break;
    let w = '';
    while (i < value.length && value[i] !== ' ' && value[i] !== '\t') {
      const c = value[i]!;
      if (c === '"' || c === "'") {
        i++;
        while (i < value.length && value[i] !== c) {
          if (value[i] === '\\') {
            const [ch, next] = cEscape(value, i);
            w += ch;
            i = next;
          } else w += value[i++];
        }
        assert.ok(i < value.length, `unterminated quote in ${value}`);
        i++;
      } else if (c === '\\') {
        const [ch, next] = cEscape(value, i);
        w += ch;
        i = next;
      } else {
        w += c;
        i++;
      }
    }
    words.push(w);
  }
  return words.map((w) =>
    w.replace(/\$(\$|[A-Za-z_{])?/g, (m, next: string | undefined) => {
      if (next === '$') return '$';
      if (next !== undefined) throw new Error(`'${m}' in ${w} would be replaced by an environment variable`);
      return '$';
    }),
  );
}

// ---- a supervisor program parser (configparser + supervisor's expansion + shlex) ----

function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | null = null;
  let lastKey: string | null = null;
  for (const raw of text.split('\n')) {
    // Inline comment: ';' or '#' preceded by whitespace (inline_comment_prefixes, as supervisor sets).
    let line = raw;
    for (let i = 1; i < line.length; i++) {
      if ((line[i] === ';' || line[i] === '#') && /\s/.test(line[i - 1]!)) {
        line = line.slice(0, i);
        break;
      }
    }
    const stripped = line.trim();
    if (stripped === '' || raw.trim().startsWith(';') || raw.trim().startsWith('#')) continue;
    if (/^\s/.test(line) && current && lastKey) {
      current.set(lastKey, `${current.get(lastKey)}\n${stripped}`); // a continuation line
      continue;
    }
    const header = /^\[([^\]]+)\]$/.exec(stripped);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      lastKey = null;
      continue;
    }
    const m = /^([^=:]+)[=:](.*)$/.exec(stripped);
    assert.ok(m && current, `not an option inside a section: ${stripped}`);
    lastKey = m[1]!.trim();
    current.set(lastKey, m[2]!.trim());
  }
  return sections;
}

/** supervisor's `value % expansions`. */
function pyFormat(value: string, vars: Record<string, string | number>): string {
  return value.replace(/%(?:\(([^)]+)\)(s|02d)|(.))/g, (_, name: string | undefined, conv: string | undefined, other: string | undefined) => {
    if (other === '%') return '%';
    if (other !== undefined) throw new Error(`'%${other}' in ${value} is a bad format`);
    const v = vars[name!];
    if (v === undefined) throw new Error(`%(${name}) in ${value} cannot be expanded`);
    return conv === '02d' ? String(v).padStart(2, '0') : String(v);
  });
}

/** shlex.split(s) in POSIX mode, without comments. */
function shlexSplit(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let w = '';
    while (i < s.length && !/\s/.test(s[i]!)) {
      const c = s[i]!;
      if (c === "'") {
        const end = s.indexOf("'", i + 1);
        assert.ok(end > 0, `no closing quotation in ${s}`);
        w += s.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) i++;
          w += s[i++];
        }
        assert.ok(i < s.length, `no closing quotation in ${s}`);
        i++;
      } else if (c === '\\') {
        assert.ok(i + 1 < s.length, `no escaped character in ${s}`);
        w += s[i + 1];
        i += 2;
      } else {
        w += c;
        i++;
      }
    }
    words.push(w);
  }
  return words;
}

// ---- fixtures ----

const NODE = process.execPath;
const PKG_BIN = BIN;
let root: string;
/** An app directory whose name has a space, quotes, '%', '$' and a backslash. */
let hostileDir: string;
let hostileEnv: string;
let plainDir: string;
let backslashDir: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'jr-deploy-render-'));
  hostileDir = join(root, `my app 'q' "dq" 100% $HOME \\x#1;2`);
  plainDir = join(root, 'app');
  mkdirSync(hostileDir);
  mkdirSync(plainDir);
  backslashDir = join(root, 'app\\');
  mkdirSync(backslashDir);
  hostileEnv = join(hostileDir, 'prod %h $X.env');
  writeFileSync(hostileEnv, 'JOBS_DATABASE_URL=sqlite:./jobs.sqlite\n');
  writeFileSync(join(plainDir, '.env'), '');
});

after(() => rmSync(root, { recursive: true, force: true }));

const install = (args: string[], cwd = plainDir): Promise<CliResult> => runCli(args, { cwd, timeoutMs: 20_000 });

function base(over: Partial<SystemdOptions & SupervisorOptions> = {}) {
  return {
    name: 'jobs-runtime',
    user: 'app',
    group: null,
    dir: '/srv/app',
    procs: null,
    queues: null,
    envFile: null,
    log: '/srv/app/worker.log',
    graceMs: 30_000,
    node: '/usr/bin/node',
    bin: '/srv/app/node_modules/jobs-runtime/bin/jobs-runtime',
    template: false,
    notify: true,
    numprocs: 1,
    ...over,
  };
}

describe('install:systemd', () => {
  test('--print renders every option, read back with systemd quoting rules', async () => {
    const r = await install([
      'install:systemd',
      '--print',
      '--name',
      'mail-jobs',
      '--user',
      'root',
      '--group',
      'daemon',
      '--dir',
      hostileDir,
      '--procs',
      '8',
      '--queue',
      'emails,default',
      '--env-file',
      hostileEnv,
      '--log',
      join(hostileDir, 'logs %d $Y.log'),
      '--grace',
      '2 minutes',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const unit = parseUnit(r.stdout);
    assert.equal(one(unit, 'Service', 'User'), 'root');
    assert.equal(one(unit, 'Service', 'Group'), 'daemon');
    assert.equal(specifiers(one(unit, 'Service', 'WorkingDirectory')), hostileDir);
    assert.equal(specifiers(one(unit, 'Service', 'EnvironmentFile')), `-${hostileEnv}`);
    assert.deepEqual(splitExec(specifiers(one(unit, 'Service', 'ExecStart'))), [
      NODE,
      PKG_BIN,
      'start',
      '--procs',
      '8',
      '--queue',
      'emails,default',
      '--grace',
      '120',
      '--log',
      join(hostileDir, 'logs %d $Y.log'),
      '--quiet',
    ]);
    assert.equal(one(unit, 'Service', 'TimeoutStopSec'), '135s', 'grace (120 s) plus a margin');
    assert.equal(one(unit, 'Service', 'SyslogIdentifier'), 'mail-jobs');
    assert.match(one(unit, 'Unit', 'Description'), /mail-jobs/);
    // The rest of the contract.
    for (const [k, v] of [
      ['Type', 'notify'],
      ['NotifyAccess', 'all'],
      ['WatchdogSec', '60s'],
      ['Restart', 'always'],
      ['RestartSec', '5s'],
      ['KillSignal', 'SIGTERM'],
      ['KillMode', 'mixed'],
      ['SuccessExitStatus', '75'],
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'full'],
      ['ProtectHome', 'read-only'],
      ['PrivateTmp', 'no'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectControlGroups', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['LockPersonality', 'yes'],
      ['ExecReload', '/bin/kill -HUP $MAINPID'],
    ] as const)
      assert.equal(one(unit, 'Service', k), v, k);
    assert.equal(one(unit, 'Unit', 'StartLimitIntervalSec'), '60');
    assert.ok(Number(one(unit, 'Unit', 'StartLimitBurst')) > 60 / 5, 'a crash loop (one start per RestartSec) never trips the start limit');
    assert.equal(one(unit, 'Install', 'WantedBy'), 'multi-user.target');
    // Only what is written above: no setting came from a value.
    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    assert.equal(
      r.stderr,
      `jobs-runtime: warning: the runtime will run as root: pass --user with an unprivileged user (the default is the owner of --dir)\n` +
        `Next, once saved as /etc/systemd/system/mail-jobs.service:\n  systemctl daemon-reload && systemctl enable --now mail-jobs.service\n`,
    );
  });

  test('defaults: the owner of --dir, <dir>/worker.log, grace 30 s, no --procs/--queue/Group/EnvironmentFile', async () => {
    const r = await install(['install:systemd', '--print']);
    assert.equal(r.code, 0, r.stderr);
    const unit = parseUnit(r.stdout);
    const owner = execFileSync('stat', ['-c', '%U', plainDir], { encoding: 'utf8' }).trim();
    assert.equal(one(unit, 'Service', 'User'), owner);
    assert.deepEqual(settings(unit, 'Service', 'Group'), []);
    assert.deepEqual(settings(unit, 'Service', 'EnvironmentFile'), []);
    assert.equal(one(unit, 'Service', 'WorkingDirectory'), plainDir);
    assert.deepEqual(splitExec(one(unit, 'Service', 'ExecStart')), [NODE, PKG_BIN, 'start', '--grace', '30', '--log', join(plainDir, 'worker.log'), '--quiet']);
    assert.equal(one(unit, 'Service', 'TimeoutStopSec'), '45s');
  });

  test('--no-notify: Type=exec, no watchdog', async () => {
    const r = await install(['install:systemd', '--print', '--no-notify', '--user', 'nobody']);
    assert.equal(r.code, 0, r.stderr);
    const unit = parseUnit(r.stdout);
    assert.equal(one(unit, 'Service', 'Type'), 'exec');
    assert.deepEqual(settings(unit, 'Service', 'NotifyAccess'), []);
    assert.deepEqual(settings(unit, 'Service', 'WatchdogSec'), []);
  });

  test('--template: <name>@.service runs --queue %I, and prints the escaped instance systemd-escape would', async () => {
    const r = await install(['install:systemd', '--print', '--template', '--user', 'nobody', '--queue', 'emails,high-prio']);
    assert.equal(r.code, 0, r.stderr);
    const unit = parseUnit(r.stdout);
    const instance = execFileSync('systemd-escape', ['--template=jobs-runtime@.service', 'emails,high-prio'], { encoding: 'utf8' }).trim();
    assert.equal(instance, 'jobs-runtime@emails\\x2chigh\\x2dprio.service');
    const i = instance.slice('jobs-runtime@'.length, -'.service'.length);
    const I = execFileSync('systemd-escape', ['-u', i], { encoding: 'utf8' }).trim();
    assert.equal(I, 'emails,high-prio');
    const argv = splitExec(specifiers(one(unit, 'Service', 'ExecStart'), { i, I }));
    assert.deepEqual(argv, [NODE, PKG_BIN, 'start', '--grace', '30', '--log', join(plainDir, 'worker.log'), '--quiet', '--queue', 'emails,high-prio']);
    assert.match(
      r.stderr,
      /Next, once saved as \/etc\/systemd\/system\/jobs-runtime@\.service:\n {2}systemctl daemon-reload && systemctl enable --now 'jobs-runtime@emails\\x2chigh\\x2dprio\.service'\n/,
    );
    assert.equal(escapeUnitInstance('default'), 'default');
    assert.equal(escapeUnitInstance('.a/b'), '\\x2ea-b');
  });

  test('hostile node and bin paths are quoted in ExecStart; a program path systemd cannot run is refused', () => {
    const weird = '/opt/no de/50% $PATH/node';
    const bin = `/opt/b "in"/%i $X \\y/jobs-runtime`;
    const u = renderSystemd(base({ node: weird, bin }));
    const execStart = specifiers(one(parseUnit(u.text), 'Service', 'ExecStart'));
    // The program path gets no '$' substitution: split it off before the arguments' rules apply.
    const program = /^"([^"]*)" /.exec(execStart);
    assert.equal(program?.[1], weird);
    assert.deepEqual(splitExec(execStart.slice(program![0].length)).slice(0, 2), [bin, 'start']);
    for (const node of ['/opt/n"o/node', "/opt/n'o/node", '/opt/n\\o/node']) {
      assert.throws(() => renderSystemd(base({ node })), /Invalid node binary path .*systemd does not run a program whose path holds quotes or backslashes/);
    }
  });

  test('hardening follows where the app writes: /home, /root, /tmp, /usr, /etc', () => {
    const h = (dir: string, log = `${dir}/worker.log`) => {
      const unit = parseUnit(renderSystemd(base({ dir, log })).text);
      return ['ProtectSystem', 'ProtectHome', 'PrivateTmp'].map((k) => one(unit, 'Service', k)).join(' ');
    };
    assert.equal(h('/srv/app'), 'full read-only yes');
    assert.equal(h('/var/www/app'), 'full read-only yes');
    assert.equal(h('/home/deploy/app'), 'full no yes');
    assert.equal(h('/root/app'), 'full no yes');
    assert.equal(h('/srv/app', '/home/deploy/worker.log'), 'full no yes');
    assert.equal(h('/tmp/app'), 'full read-only no');
    assert.equal(h('/var/tmp/app'), 'full read-only no');
    assert.equal(h('/usr/local/app'), 'no read-only yes');
    assert.equal(h('/etc/app'), 'yes read-only yes');
    assert.equal(h('/homework/app'), 'full read-only yes', 'a prefix of a name is not the folder');
  });

  test('a newline or a control character in any value is refused, naming the option', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--log', `${plainDir}/w.log\nExecStartPre=/bin/sh -c id`], /Invalid --log .*a newline/],
      [['--dir', `${plainDir}\n`], /Invalid --dir .*a newline/],
      [['--dir', `${plainDir}\rx`], /Invalid --dir .*a carriage return/],
      [['--user', 'app\nExecStartPre=/bin/sh'], /Invalid --user/],
      [['--group', 'app\n[Service]'], /Invalid --group/],
      [['--name', 'a\nb'], /Invalid --name/],
      [['--name', 'a b'], /Invalid --name/],
      [['--name', 'jobs.service'], /without the '\.service'/],
      [['--user', '-rf'], /Invalid --user/],
      [['--queue', 'a b'], /Invalid queue name/],
      [['--procs', '0'], /--procs must be a whole number/],
      [['--grace', 'soon'], /--grace/],
      [['--dir', backslashDir], /Invalid --dir .*ends with a backslash, which systemd reads as "continued on the next line"/],
      [['--log', `${plainDir}/w.log `], /ends with whitespace/],
      [['--dir', join(plainDir, '.env')], /--dir .*\.env is not a directory/],
      [['--output', root], /'--output <dir>' cannot be used with option '--print'/],
    ];
    const results = await Promise.all(cases.map(([args]) => install(['install:systemd', '--print', '--user', 'nobody', ...args])));
    for (const [n, [args, expected]] of cases.entries()) {
      const r = results[n]!;
      assert.equal(r.code, 1, `${args.join(' ')} must fail: ${r.stdout}`);
      assert.match(r.stderr, expected, args.join(' '));
      assert.equal(r.stdout, '', 'nothing rendered');
    }
    // A NUL cannot reach argv; the check is there for values from elsewhere.
    assert.throws(() => absolutePath('--log', '/srv/w\u0000.log'), /Invalid --log .*a NUL byte/);
    assert.throws(() => renderSystemd(base({ user: 'app\nExecStartPre=/bin/sh' })), /Invalid --user .*a newline/);
    assert.throws(() => renderSupervisor(base({ log: '/srv/w.log\n[program:x]' })), /Invalid --log .*a newline/);
  });

  test('--output writes the file, refuses to overwrite it without --force, and prints the exact next commands', async () => {
    const out = join(root, 'systemd-out');
    mkdirSync(out);
    const args = ['install:systemd', '--output', out, '--user', 'nobody', '--dir', hostileDir];
    const first = await install(args);
    assert.equal(first.code, 0, first.stderr);
    const file = join(out, 'jobs-runtime.service');
    assert.equal(
      first.stdout,
      `Wrote ${file} (runs as nobody in ${hostileDir})\n` +
        `Next, as root:\n  cp ${file} /etc/systemd/system/\n  systemctl daemon-reload && systemctl enable --now jobs-runtime.service\n` +
        `Log: tail -f '${join(hostileDir, 'worker.log').replace(/'/g, `'\\''`)}'\n`,
    );
    writeFileSync(file, 'edited by hand\n');
    const again = await install(args);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `jobs-runtime: ${file} already exists: use --force to overwrite it\n`);
    assert.equal(readFileSync(file, 'utf8'), 'edited by hand\n', 'left as it was');
    const forced = await install([...args, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(one(parseUnit(readFileSync(file, 'utf8')), 'Service', 'User'), 'nobody');
  });
});

describe('install:supervisor', () => {
  const vars = (name: string, n = 0) => ({
    program_name: name,
    process_num: n,
    numprocs: 1,
    group_name: name,
    here: '/etc/supervisor/conf.d',
    host_node_name: 'h',
  });

  test('--print renders every option, read back as configparser, supervisor and shlex do', async () => {
    const log = join(hostileDir, 'worker 50% $L.log');
    const r = await install([
      'install:supervisor',
      '--print',
      '--name',
      'mail-jobs',
      '--user',
      'root',
      '--dir',
      hostileDir,
      '--procs',
      '8',
      '--queue',
      'emails,default',
      '--env-file',
      hostileEnv,
      '--log',
      log,
      '--grace',
      '45',
      '--numprocs',
      '1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ini = parseIni(r.stdout);
    assert.deepEqual([...ini.keys()], ['program:mail-jobs']);
    const p = ini.get('program:mail-jobs')!;
    const get = (k: string) => pyFormat(p.get(k) ?? assert.fail(`no ${k}`), vars('mail-jobs'));
    assert.deepEqual(shlexSplit(get('command')), [
      NODE,
      `--env-file=${hostileEnv}`,
      PKG_BIN,
      'start',
      '--procs',
      '8',
      '--queue',
      'emails,default',
      '--grace',
      '45',
    ]);
    assert.equal(get('directory'), hostileDir);
    assert.equal(get('user'), 'root');
    // supervisor formats stdout_logfile twice (see supervisor/options.py, processes_from_section).
    assert.equal(pyFormat(get('stdout_logfile'), vars('mail-jobs')), log);
    assert.equal(get('process_name'), 'mail-jobs_00');
    assert.equal(get('stopwaitsecs'), '60');
    for (const [k, v] of [
      ['autostart', 'true'],
      ['autorestart', 'true'],
      ['stopsignal', 'TERM'],
      ['stopasgroup', 'true'],
      ['killasgroup', 'true'],
      ['numprocs', '1'],
      ['redirect_stderr', 'true'],
      ['stdout_logfile_maxbytes', '50MB'],
      ['stdout_logfile_backups', '10'],
      ['exitcodes', '0,75'],
    ] as const)
      assert.equal(get(k), v, k);
    assert.match(r.stderr, /Next, once saved as \/etc\/supervisor\/conf\.d\/mail-jobs\.conf:\n {2}supervisorctl reread && supervisorctl update\n$/);
  });

  test('--numprocs: distinct process names; a shared log is not rotated by supervisor', async () => {
    const r = await install(['install:supervisor', '--print', '--user', 'nobody', '--numprocs', '3']);
    assert.equal(r.code, 0, r.stderr);
    const p = parseIni(r.stdout).get('program:jobs-runtime')!;
    assert.equal(p.get('numprocs'), '3');
    assert.deepEqual(
      [0, 1, 2].map((n) => pyFormat(p.get('process_name')!, vars('jobs-runtime', n))),
      ['jobs-runtime_00', 'jobs-runtime_01', 'jobs-runtime_02'],
    );
    assert.equal(p.get('stdout_logfile_maxbytes'), '0');
    assert.equal(p.get('stdout_logfile_backups'), '0');
    assert.deepEqual(shlexSplit(p.get('command')!), [NODE, PKG_BIN, 'start', '--grace', '30']);
  });

  test("';' and '#' never start an inline comment in command=, and a plain value that would be cut is refused", () => {
    const dir = '/srv/a ;b #c';
    const u = renderSupervisor(base({ node: '/opt/no de ;x #y/node' }));
    const p = parseIni(u.text).get('program:jobs-runtime')!;
    assert.equal(shlexSplit(pyFormat(p.get('command')!, vars('jobs-runtime')))[0], '/opt/no de ;x #y/node');
    // directory= cannot be escaped: refused by the CLI before anything is written.
    assert.throws(() => renderSupervisor(base({ dir, log: `${dir}/worker.log` })), /would cut it at ' ;'/);
  });

  test('--group is refused with the reason; newlines are refused', async () => {
    const g = await install(['install:supervisor', '--print', '--user', 'nobody', '--group', 'app']);
    assert.equal(g.code, 1);
    assert.match(g.stderr, /install:supervisor has no --group: supervisor runs a program with the primary group/);
    const n = await install(['install:supervisor', '--print', '--user', 'nobody', '--log', `${plainDir}/w.log\n[program:evil]`]);
    assert.equal(n.code, 1);
    assert.match(n.stderr, /Invalid --log .*a newline/);
    const d = await install(['install:supervisor', '--print', '--user', 'nobody', '--numprocs', '0']);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /--numprocs must be a whole number/);
  });

  test('--output writes <name>.conf, refuses to overwrite without --force, prints the exact next commands', async () => {
    const out = join(root, 'supervisor-out');
    mkdirSync(out);
    const args = ['install:supervisor', '--output', out, '--user', 'nobody', '--name', 'shop-worker'];
    const first = await install(args);
    assert.equal(first.code, 0, first.stderr);
    const file = join(out, 'shop-worker.conf');
    assert.equal(
      first.stdout,
      `Wrote ${file} (runs as nobody in ${plainDir})\n` +
        `Next, as root:\n  cp ${file} /etc/supervisor/conf.d/\n  supervisorctl reread && supervisorctl update\n` +
        `Log: tail -f ${join(plainDir, 'worker.log')}\n`,
    );
    const again = await install(args);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `jobs-runtime: ${file} already exists: use --force to overwrite it\n`);
    assert.equal((await install([...args, '--force'])).code, 0);
  });
});
