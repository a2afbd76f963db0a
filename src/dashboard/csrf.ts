import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// CSRF protection by a signed double-submit cookie: the browser holds a random nonce in an
// HttpOnly, SameSite=Strict cookie; every form carries HMAC(secret, nonce). A POST is accepted
// only when the form's token matches the cookie it came with. SameSite=Strict keeps the cookie
// off cross-site requests; the signature keeps a cookie planted by a sibling subdomain useless
// without the secret. The secret is random per process unless given (several processes behind
// one address must share one: the `csrfSecret` option).

export const CSRF_COOKIE = 'jr_dashboard_csrf';
export const CSRF_FIELD = '_csrf';

export class CsrfGuard {
  private readonly secret: Buffer;

  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  newNonce(): string {
    return randomBytes(24).toString('base64url');
  }

  tokenFor(nonce: string): string {
    return createHmac('sha256', this.secret).update(nonce).digest('base64url');
  }

  /** True when `token` (from the form) was made for `nonce` (from the cookie). */
  verify(nonce: string | undefined, token: string | null): boolean {
    if (!nonce || !token) return false;
    const want = Buffer.from(this.tokenFor(nonce));
    const got = Buffer.from(token);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  cookieHeader(nonce: string, base: string): string {
    return `${CSRF_COOKIE}=${nonce}; Path=${base || '/'}; HttpOnly; SameSite=Strict`;
  }
}
