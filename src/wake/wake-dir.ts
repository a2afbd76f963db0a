import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Where idle runtimes of one store leave their wake-up address: one file per runtime, named
// `<udp port>-<pid>`. /dev/shm rather than /tmp: systemd's PrivateTmp gives a service its own
// /tmp, and the application dispatching must see the runtime's files. JOBS_WAKE_DIR moves it
// (the runtime and the application must agree).
const ROOT = process.env.JOBS_WAKE_DIR || join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'jobs-runtime-wake');

/** Set JOBS_WAKE=0 to turn the wake-up path off (polling only), in the runtime or the app. */
export const wakeEnabled = (): boolean => process.env.JOBS_WAKE !== '0';

export function wakeRoot(): string {
  return ROOT;
}

export function wakeDir(storeKey: string): string {
  return join(ROOT, createHash('sha256').update(storeKey).digest('hex').slice(0, 16));
}
