import { StoreUnavailableError } from '../../errors.js';

// Claims rely on `FOR UPDATE SKIP LOCKED`: MySQL 8.0.1+, MariaDB 10.6+.
export function assertSkipLockedSupport(version: string): void {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return; // unknown format: let the first claim tell
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const mariadb = /mariadb/i.test(version);
  const ok = mariadb ? major > 10 || (major === 10 && minor >= 6) : major > 8 || (major === 8 && (minor > 0 || patch >= 1));
  if (!ok) {
    throw new StoreUnavailableError(
      `${mariadb ? 'MariaDB' : 'MySQL'} ${version} is too old: jobs-runtime claims jobs with FOR UPDATE SKIP LOCKED, ` +
        `which needs MySQL 8.0.1+ or MariaDB 10.6+`,
    );
  }
}
