import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

// A runtime's id names its host, pid and the host's boot: `web-1:4242:9f3a-c01d`. The boot id
// lets a runtime tell, without waiting for a heartbeat to go stale, that a peer on the same
// machine is dead: same host and boot, and its pid no longer exists.

const BOOT = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '').slice(0, 4);
  } catch {
    return randomBytes(2).toString('hex'); // no boot id (not Linux): only this process matches it
  }
})();

export const HOST = hostname().slice(0, 40);

export function newRuntimeId(pid = process.pid): string {
  return `${HOST}:${pid}:${BOOT}-${randomBytes(2).toString('hex')}`;
}

/** True when `runtimeId` ran on this machine, since its last boot, in a process that is gone. */
export function isDeadOnThisHost(runtimeId: string, pid: number): boolean {
  const [host, , boot] = runtimeId.split(':');
  if (host !== HOST || !boot?.startsWith(`${BOOT}-`) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false; // it exists (or was reused: then its heartbeat decides)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
