import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

// A real systemd, booted in a container: the minimal Debian root that .ci/nspawn-root builds
// once per machine, run by `systemd-nspawn -b` with a throw-away overlay on top (nothing a test
// does is written into the cached root), sharing the host's network. There is no systemd on the
// host, hence --register=no --keep-unit. Commands run inside through nsenter into every
// namespace of the container's init, with a clean environment. Everything is stopped by pid.

const BUILD_ROOT = fileURLToPath(new URL('../../.ci/nspawn-root', import.meta.url));
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The cached root's path, built first when missing (bounded: debootstrap takes about a minute). */
export function nspawnRoot(timeoutMs: number): string {
  const missing = ['systemd-nspawn', 'nsenter', 'debootstrap'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: .ci/run installs systemd-container and debootstrap (apt-get install them)`);
  if (process.getuid?.() !== 0) throw new Error('the systemd suite runs as root (systemd-nspawn and debootstrap need it)');
  const r = spawnSync(BUILD_ROOT, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error || r.status !== 0) throw new Error(`.ci/nspawn-root failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  return r.stdout.trim().split('\n').pop()!;
}

export class Container {
  private constructor(
    readonly machine: string,
    private readonly root: string,
    private readonly nspawn: ChildProcess,
    /** The container's PID 1 (systemd), as the host sees it. */
    readonly initPid: number,
    private readonly output: () => string,
  ) {}

  /** Boots the root with these host paths bind-mounted at the same place inside (or `host:inside`). */
  static async boot(o: { root: string; machine: string; bindRo: string[]; bind: string[]; timeoutMs: number }): Promise<Container> {
    const args = ['-D', o.root, '-b', '--register=no', '--keep-unit', '--volatile=overlay', `--machine=${o.machine}`, '--console=passive'];
    for (const p of o.bindRo) args.push(`--bind-ro=${p}`);
    for (const p of o.bind) args.push(`--bind=${p}`);
    const nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    nspawn.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    nspawn.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = () => nspawn.exitCode !== null || nspawn.signalCode !== null;
    const initPid = await waitFor(
      'the container init',
      () => {
        if (exited()) throw new Error(`systemd-nspawn exited (${nspawn.exitCode ?? nspawn.signalCode}):\n${out}`);
        return initChildOf(nspawn.pid!);
      },
      o.timeoutMs,
      50,
    );
    const c = new Container(o.machine, o.root, nspawn, initPid, () => out);
    try {
      // running, or degraded when some unit of the image failed: either way systemd is up.
      await waitFor(
        'the container to finish booting',
        () => {
          if (exited()) throw new Error(`systemd-nspawn exited while booting:\n${out}`);
          return /^(running|degraded)$/m.test(c.run(['systemctl', 'is-system-running']).stdout);
        },
        o.timeoutMs,
        100,
      );
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Runs a command inside the container (in `cwd`, with only PATH and LANG set). */
  run(argv: string[], o: { cwd?: string; input?: string; timeoutMs?: number } = {}): Ran {
    const inner = o.cwd ? ['sh', '-c', 'cd "$0" && exec "$@"', o.cwd, ...argv] : argv;
    const r = spawnSync('nsenter', ['-t', String(this.initPid), '-a', 'env', '-i', `PATH=${PATH}`, 'LANG=C.UTF-8', ...inner], {
      encoding: 'utf8',
      timeout: o.timeoutMs ?? 30_000,
      input: o.input ?? '',
    });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs a command that must succeed; returns its stdout. */
  ok(argv: string[], o: { cwd?: string; input?: string; timeoutMs?: number } = {}): string {
    const r = this.run(argv, o);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** `systemctl show` properties of a unit. */
  show(unit: string, ...props: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.ok(['systemctl', 'show', unit, '-p', props.join(',')]).split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  /** Writes a file inside the container (its overlay: discarded with it). */
  write(path: string, text: string): void {
    this.ok(['sh', '-c', 'mkdir -p "$(dirname "$0")" && cat > "$0"', path], { input: text });
  }

  journal(unit: string): string {
    return this.run(['journalctl', '--no-pager', '-o', 'short-monotonic', '-u', unit]).stdout;
  }

  /** Powers the container off (SIGTERM to nspawn); killed by pid if that takes too long. */
  async stop(timeoutMs = 40_000): Promise<void> {
    const gone = () => this.nspawn.exitCode !== null || this.nspawn.signalCode !== null;
    if (!gone()) {
      this.nspawn.kill('SIGTERM');
      await waitFor('the container to power off', gone, timeoutMs, 100).catch(() => {
        // SIGKILL to the container's init ends its whole pid namespace, then nspawn itself.
        kill(this.initPid);
        this.nspawn.kill('SIGKILL');
      });
    }
    await waitFor('systemd-nspawn to exit', gone, 10_000, 50).catch(() => undefined);
    // nspawn leaves its (empty) mount-propagation directory behind when there is no host systemd.
    const propagate = `/run/systemd/nspawn/propagate/${this.machine}`;
    if (existsSync(propagate)) rmSync(propagate, { recursive: true, force: true });
    // The container's mounts lived in its own namespace: none may be left on the host.
    const left = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(this.root) || l.includes(propagate));
    if (left.length > 0) throw new Error(`mounts left after the container stopped:\n${left.join('\n')}`);
  }

  /** What systemd-nspawn printed: for a failure message. */
  log(): string {
    return this.output();
  }
}

/** The child of `pid` running systemd (nspawn's child, once it has become the container's init), or 0. */
function initChildOf(pid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'systemd') return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return 0;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
