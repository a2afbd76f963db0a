// Deadlocks (1213) and lock-wait timeouts (1205) are the database asking us to try again; they
// are retried here, inside the store, and never reach the runtime as job failures.
const RETRYABLE_ERRNOS = new Set([1213, 1205]);
const MAX_TRIES = 8;

export function isRetryableLockError(e: unknown): boolean {
  const errno = (e as { errno?: number } | null)?.errno;
  return typeof errno === 'number' && RETRYABLE_ERRNOS.has(errno);
}

export async function retryOnLockErrors<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryableLockError(e) || attempt >= MAX_TRIES) throw e;
      // Jittered backoff so two colliding transactions do not collide again.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}
