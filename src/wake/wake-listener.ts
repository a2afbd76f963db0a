import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wakeDir, wakeEnabled, wakeRoot } from './wake-dir.js';

// The runtime's side of the wake-up path: a UDP socket on 127.0.0.1 whose port is published
// in the store's wake directory while the runtime runs.
export class WakeListener {
  private socket: Socket | null = null;
  private file: string | null = null;

  constructor(
    private readonly storeKey: string,
    private readonly onWake: () => void,
  ) {}

  async start(): Promise<boolean> {
    if (!wakeEnabled()) return false;
    try {
      const socket = createSocket('udp4');
      socket.on('message', () => this.onWake());
      socket.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve());
      });
      socket.unref();
      this.socket = socket;
      // Sticky and world-writable like /tmp: the app and the runtime may run as different users.
      mkdirSync(wakeRoot(), { recursive: true, mode: 0o1777 });
      chmodSync(wakeRoot(), 0o1777);
      const dir = wakeDir(this.storeKey);
      mkdirSync(dir, { recursive: true, mode: 0o1777 });
      chmodSync(dir, 0o1777);
      pruneStale(dir);
      this.file = join(dir, `${socket.address().port}-${process.pid}`);
      writeFileSync(this.file, '', { mode: 0o644 });
      return true;
    } catch {
      // Polling still works; the wake-up path is an optimisation.
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

/** Removes the files of runtimes on this host that died without cleaning up. */
function pruneStale(dir: string): void {
  for (const f of readdirSync(dir)) {
    const pid = Number(f.split('-')[1]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, f), { force: true });
    }
  }
}
