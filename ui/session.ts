import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * The browser session: a sealed cookie (AES-256-GCM, key derived from UI_SESSION_SECRET) holding
 * the bearer token the pages call the API with, the CSRF synchronizer token, and who is signed in
 * (for the header only: every authorization decision is the API's, on the token).
 * Sealed rather than signed so the token is not readable from the cookie jar or logs either.
 * A signed-in session also names a server-side session (`sid`, a SessionRegistry): the cookie
 * counts only while that one is live, so sign-out ends it for every copy of the cookie.
 */
export interface Session {
  /** CSRF synchronizer token, present for anonymous visitors too (the sign-in forms need one). */
  csrf: string;
  /** Unix seconds after which the session is over (the token's `exp`, or 1 h for an anonymous one). */
  exp: number;
  user?: {
    sub: string;
    roles: string[];
    token: string;
    /** The server-side session (SessionRegistry). */
    sid: string;
    /** How the user signed in: an OIDC session also ends at the provider on sign-out. */
    via: 'oidc' | 'development';
  };
}

/**
 * Where a signed-in page session lives on the server (README "Security"); the process passes the
 * PostgreSQL one (db/session-store.ts), so the pages never query the database themselves.
 */
export interface SessionRegistry {
  /** A new session for `subject` ending at `expiresAt`; returns its ID. Purges expired ones. */
  create(session: { subject: string; expiresAt: Date }): Promise<string>;
  /** Whether the session exists and has not expired. */
  isLive(id: string): Promise<boolean>;
  /** Ends the session now (sign-out); ending an unknown one is not an error. */
  end(id: string): Promise<void>;
}

/** A short-lived sealed cookie for the OIDC round trip (state, nonce, PKCE verifier, where to go next). */
export interface OidcTransaction {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  exp: number;
}

const ANONYMOUS_SECONDS = 3600;
/** However long the token lives, a page session ends after 12 hours (README "Security"). */
export const MAX_SESSION_SECONDS = 12 * 3600;
const VERSION = 1;

export interface CookieSealer {
  seal(value: unknown): string;
  open<T>(sealed: string | undefined): T | null;
}

export function createSealer(secret: string | Buffer): CookieSealer {
  const key = Buffer.from(hkdfSync('sha256', secret, 'payerbox-ui', 'session cookie v1', 32));
  return {
    seal(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return [
        VERSION,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
    },
    open<T>(sealed: string | undefined): T | null {
      if (!sealed) return null;
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== String(VERSION) || !iv || !body || !tag) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
        return JSON.parse(plain.toString('utf8')) as T;
      } catch {
        return null; // tampered, another key, or garbage: treated as no session
      }
    },
  };
}

export const newToken = () => randomBytes(32).toString('base64url');

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface CookiePolicy {
  /** Secure everywhere except plain http on localhost in development mode. */
  secure(c: Context): boolean;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function cookiePolicy(mode: 'development' | 'production'): CookiePolicy {
  return {
    secure(c) {
      if (mode !== 'development') return true;
      const url = new URL(c.req.url);
      return !(url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname));
    },
  };
}

/** `__Host-` pins a Secure cookie to this exact host and path `/`; browsers refuse that prefix without Secure. */
const cookieName = (secure: boolean, base: string) => (secure ? `__Host-${base}` : base);

export class SessionStore {
  constructor(
    private readonly sealer: CookieSealer,
    private readonly policy: CookiePolicy,
    private readonly registry: SessionRegistry,
  ) {}

  async read(c: Context): Promise<Session | null> {
    const session = this.sealer.open<Session>(getCookie(c, cookieName(this.policy.secure(c), 'bsr_session')));
    if (!session || typeof session.csrf !== 'string' || session.exp * 1000 < Date.now()) return null;
    // Signed in only while the server still has the session: a cookie kept after sign-out is dead.
    if (
      session.user &&
      !(typeof session.user.sid === 'string' && (await this.registry.isLive(session.user.sid)))
    )
      return null;
    return session;
  }

  /**
   * The current session, or a new anonymous one. A new one is only written when a page is rendered
   * (`fresh`), so a response that signs in sets one session cookie, not two.
   */
  async ensure(c: Context): Promise<{ session: Session; fresh: boolean }> {
    const current = await this.read(c);
    if (current) return { session: current, fresh: false };
    return {
      session: { csrf: newToken(), exp: Math.floor(Date.now() / 1000) + ANONYMOUS_SECONDS },
      fresh: true,
    };
  }

  write(c: Context, session: Session): Session {
    const secure = this.policy.secure(c);
    // No Max-Age: a browser session cookie; the sealed `exp` ends it server-side.
    setCookie(c, cookieName(secure, 'bsr_session'), this.sealer.seal(session), {
      path: '/',
      httpOnly: true,
      secure,
      sameSite: 'Lax',
    });
    return session;
  }

  /** A new signed-in session (fresh CSRF token: no fixation), live on the server until `exp` or sign-out. */
  async signIn(
    c: Context,
    user: { sub: string; roles: string[]; token: string; via: 'oidc' | 'development' },
    tokenExp: number,
  ): Promise<void> {
    const exp = Math.min(tokenExp, Math.floor(Date.now() / 1000) + MAX_SESSION_SECONDS);
    const sid = await this.registry.create({ subject: user.sub, expiresAt: new Date(exp * 1000) });
    this.write(c, { csrf: newToken(), exp, user: { ...user, sid } });
  }

  /** Sign-out: the server forgets the session, the browser drops the cookie. */
  async end(c: Context, session: Session): Promise<void> {
    if (session.user?.sid) await this.registry.end(session.user.sid);
    this.clear(c);
  }

  clear(c: Context): void {
    const secure = this.policy.secure(c);
    deleteCookie(c, cookieName(secure, 'bsr_session'), {
      path: '/',
      secure,
      httpOnly: true,
      sameSite: 'Lax',
    });
  }

  writeTransaction(c: Context, tx: OidcTransaction): void {
    const secure = this.policy.secure(c);
    setCookie(c, cookieName(secure, 'bsr_oidc'), this.sealer.seal(tx), {
      path: '/',
      httpOnly: true,
      secure,
      // Lax: the identity provider's redirect back is a top-level GET navigation, which Lax lets through.
      sameSite: 'Lax',
      maxAge: 600,
    });
  }

  takeTransaction(c: Context): OidcTransaction | null {
    const secure = this.policy.secure(c);
    const name = cookieName(secure, 'bsr_oidc');
    const tx = this.sealer.open<OidcTransaction>(getCookie(c, name));
    deleteCookie(c, name, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
    if (!tx || tx.exp * 1000 < Date.now()) return null;
    return tx;
  }

  /**
   * A one-time confirmation for the next page ("Your changes are saved"), instead of a `?notice=` in
   * the URL that a reload or a bookmark shows again long after it stopped being true. Sealed and
   * bound to the page it is for; the value is a key of the pages' own table, never free text.
   */
  writeNotice(c: Context, notice: { key: string; path: string }): void {
    const secure = this.policy.secure(c);
    setCookie(
      c,
      cookieName(secure, 'bsr_notice'),
      this.sealer.seal({ ...notice, exp: Date.now() + 60_000 }),
      {
        path: '/',
        httpOnly: true,
        secure,
        sameSite: 'Lax',
        maxAge: 60,
      },
    );
  }

  /** The notice for this page, if one is waiting; it is used up either way. */
  takeNotice(c: Context, path: string): string | null {
    const secure = this.policy.secure(c);
    const name = cookieName(secure, 'bsr_notice');
    const raw = getCookie(c, name);
    if (!raw) return null;
    const notice = this.sealer.open<{ key: string; path: string; exp: number }>(raw);
    if (notice && notice.path !== path && notice.exp > Date.now()) return null; // for another page: keep it
    deleteCookie(c, name, { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
    return notice && notice.exp > Date.now() && typeof notice.key === 'string' ? notice.key : null;
  }
}
