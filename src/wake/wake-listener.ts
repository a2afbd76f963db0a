import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { wakeDir, wakeEnabled, wakeRoot } from './wake-dir.js';
import { wakeKeyOf } from './wake-message.js';

// The runtime's side of the wake-up path: a UDP socket on 127.0.0.1 whose port is published
// in the store's wake directory while the runtime runs.
//
// The directories live in a place every local user can write to, so nothing there is taken on
// trust: a directory must be a real one (not a symlink) owned by this user or root before the
// runtime changes its mode, prunes it or writes in it, and the port file is created without
// following a link. Otherwise another user could point the path at any directory and have a
// root-run runtime make it world-writable or delete files in it.

/** Why a directory was not used. */
class UntrustedWakeDir extends Error {
  override name = 'UntrustedWakeDir';
}

export class WakeListener {
  private socket: Socket | null = null;
  private file: string | null = null;
  /** Why the wake-up path is off when start() returned false (null: turned off by JOBS_WAKE=0). */
  unavailableBecause: string | null = null;

  constructor(
    private readonly storeKey: string,
    /** `key`: the dispatch announced (wake-message.ts), null when the message names none. */
    private readonly onWake: (key: string | null) => void,
  ) {}

  async start(): Promise<boolean> {
    if (!wakeEnabled()) return false;
    try {
      const socket = createSocket('udp4');
      socket.on('message', (msg) => this.onWake(wakeKeyOf(msg)));
      socket.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve());
      });
      socket.unref();
      this.socket = socket;
      sharedDir(wakeRoot());
      const dir = wakeDir(this.storeKey);
      sharedDir(dir);
      pruneStale(dir);
      const file = join(dir, `${socket.address().port}-${process.pid}`);
      createExclusive(file);
      this.file = file;
      return true;
    } catch (e) {
      // Polling still works; the wake-up path is an optimisation.
      this.unavailableBecause = (e as Error).message;
      this.close();
      return false;
    }
  }

  close(): void {
    if (this.file) rmSync(this.file, { force: true });
    this.file = null;
    this.socket?.close();
    this.socket = null;
  }
}

/**
 * Makes `path` a directory the runtimes and applications of this host share: created sticky and
 * world-writable when missing (they may run as different users), and trusted only if it is a
 * real directory owned by this user or root.
 */
function sharedDir(path: string): void {
  let created = false;
  try {
    mkdirSync(path, { mode: 0o1777 });
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(path);
  if (!st.isDirectory()) throw new UntrustedWakeDir(`${path} is not a directory (a symbolic link?)`);
  const me = process.getuid?.() ?? -1;
  if (st.uid !== me && st.uid !== 0) throw new UntrustedWakeDir(`${path} belongs to another user (uid ${st.uid})`);
  // mkdir's mode is cut by the umask; a directory of ours with another mode is set right.
  if (st.uid === me && (created || (st.mode & 0o7777) !== 0o1777)) chmodSync(path, 0o1777);
}

/** Creates an empty file that must not exist, never through a symbolic link; a leftover of a dead runtime with the same name is replaced. */
function createExclusive(file: string): void {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  try {
    closeSync(openSync(file, flags, 0o644));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    rmSync(file, { force: true }); // removes a link itself, never its target
    closeSync(openSync(file, flags, 0o644));
  }
}

/** Removes the files of runtimes on this host that died without cleaning up. */
function pruneStale(dir: string): void {
  for (const f of readdirSync(dir)) {
    const m = /^\d+-(\d+)$/.exec(f);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, f), { force: true });
    }
  }
}
