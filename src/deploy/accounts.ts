import { readFileSync } from 'node:fs';

// User names from /etc/passwd, without spawning `id`. Users that only exist in LDAP or another
// NSS source are not listed there: callers only warn, or ask for --user, when a name is missing.

function passwd(): Array<{ name: string; uid: number }> {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .filter((f) => f.length >= 3)
      .map((f) => ({ name: f[0]!, uid: Number(f[2]) }));
  } catch {
    return [];
  }
}

export function userNameOf(uid: number): string | null {
  return passwd().find((u) => u.uid === uid)?.name ?? null;
}

export function userExists(name: string): boolean {
  return passwd().some((u) => u.name === name);
}
