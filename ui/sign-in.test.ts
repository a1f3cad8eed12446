import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { composeApp } from '../api/compose.js';
import { createInMemoryIssuer, type LocalIssuer } from '../api/auth/local-issuer.js';
import { createTokenVerifier, localKeys } from '../api/auth/verifier.js';
import { TEST_AUDIENCE, testConfig } from '../test-support/api-harness.js';
import { createDb, type Db } from '../db/database.js';
import { createLogger } from '../platform/logger.js';
import { testClient } from '../test-support/temporal.js';
import { safeNext } from './auth/routes.js';

/**
 * Production sign-in: the pages as an OIDC client (authorization code + PKCE) of an identity
 * provider on loopback, in production mode (Secure `__Host-` cookies). The provider enforces PKCE,
 * so a passing sign-in proves the verifier sent matches the challenge.
 */
const CLIENT_ID = 'payerbox-portal';

interface Provider {
  url: string;
  issuer: LocalIssuer;
  /** What the next token answer does wrong, if anything. */
  fault: 'none' | 'wrong-nonce';
  close(): Promise<void>;
}

async function startProvider(): Promise<Provider> {
  const codes = new Map<string, { challenge: string; nonce: string; redirectUri: string }>();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const idKid = 'id-token-key';
  const idJwk: JWK = { ...(await exportJWK(publicKey)), kid: idKid, alg: 'ES256', use: 'sig' };
  let url = '';
  let issuer: LocalIssuer | null = null;
  const provider: Provider = {
    get url() {
      return url;
    },
    get issuer() {
      return issuer!;
    },
    fault: 'none',
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const at = new URL(request.url ?? '/', url);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (at.pathname === '/.well-known/openid-configuration') {
        return send(200, {
          issuer: url,
          authorization_endpoint: `${url}/authorize`,
          token_endpoint: `${url}/token`,
          jwks_uri: `${url}/jwks`,
          end_session_endpoint: `${url}/logout`,
          code_challenge_methods_supported: ['S256'],
        });
      }
      if (at.pathname === '/jwks') return send(200, { keys: [...issuer!.jwks.keys, idJwk] });
      if (at.pathname === '/authorize') {
        const q = at.searchParams;
        if (q.get('client_id') !== CLIENT_ID || q.get('code_challenge_method') !== 'S256')
          return send(400, { error: 'invalid_request' });
        const code = randomUUID();
        codes.set(code, {
          challenge: q.get('code_challenge')!,
          nonce: q.get('nonce')!,
          redirectUri: q.get('redirect_uri')!,
        });
        const back = new URL(q.get('redirect_uri')!);
        back.searchParams.set('code', code);
        back.searchParams.set('state', q.get('state')!);
        response.writeHead(302, { Location: back.toString() });
        return response.end();
      }
      if (at.pathname === '/token' && request.method === 'POST') {
        let raw = '';
        for await (const chunk of request) raw += String(chunk);
        const form = new URLSearchParams(raw);
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const challenge = createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url');
        if (
          !grant ||
          form.get('client_id') !== CLIENT_ID ||
          grant.challenge !== challenge ||
          grant.redirectUri !== form.get('redirect_uri')
        )
          return send(400, { error: 'invalid_grant' });
        const now = Math.floor(Date.now() / 1000);
        const idToken = await new SignJWT({ nonce: provider.fault === 'wrong-nonce' ? 'other' : grant.nonce })
          .setProtectedHeader({ alg: 'ES256', kid: idKid })
          .setIssuer(url)
          .setAudience(CLIENT_ID)
          .setSubject('olivia')
          .setIssuedAt(now)
          .setExpirationTime(now + 300)
          .sign(privateKey as CryptoKey);
        return send(200, {
          token_type: 'Bearer',
          access_token: await issuer!.sign('olivia', ['developer'], { expiresInSeconds: 600 }),
          id_token: idToken,
          expires_in: 600,
        });
      }
      send(404, { error: 'not_found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = await createInMemoryIssuer({ issuer: url, audience: TEST_AUDIENCE });
  return provider;
}

describe('production sign-in (OIDC authorization code + PKCE)', () => {
  let provider: Provider;
  let db: Db;
  let temporal: Client;
  let app: ReturnType<typeof composeApp>;

  beforeAll(async () => {
    provider = await startProvider();
    db = createDb(inject('databaseUrl'), { poolSize: 2 });
    temporal = await testClient();
    const config = testConfig({
      APP_MODE: 'production',
      AUTH_DEV_ISSUER: 'false',
      AUTH_ISSUER: provider.url,
      UI_OIDC_CLIENT_ID: CLIENT_ID,
      UI_SESSION_SECRET: randomBytes(32).toString('base64'),
    });
    app = composeApp({
      config,
      db,
      temporal,
      log: createLogger('ui-test', 'silent'),
      verifier: createTokenVerifier([
        {
          issuer: provider.url,
          audience: TEST_AUDIENCE,
          keys: localKeys(provider.issuer.jwks),
          rolesClaim: 'roles',
        },
      ]),
    });
  });
  afterAll(async () => {
    await provider?.close();
    await temporal?.connection.close();
    await db?.destroy();
  });

  const cookieFrom = (response: Response, name: string) => {
    const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
    return { line: line ?? '', pair: line ? line.split(';')[0]! : '' };
  };

  /** Whether the session cookie a response set (if any) opens the portal. */
  async function signedIn(response: Response): Promise<boolean> {
    const { pair } = cookieFrom(response, '__Host-bsr_session');
    const portal = await app.request('/portal', { headers: pair ? { Cookie: pair } : {} });
    return portal.status === 200;
  }

  async function startSignIn(next = '/portal') {
    const start = await app.request(`/login/oidc?next=${encodeURIComponent(next)}`);
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('Location')!);
    const tx = cookieFrom(start, '__Host-bsr_oidc');
    const atProvider = await fetch(authorize, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    return { authorize, tx, callback: new URL(atProvider.headers.get('Location')!) };
  }

  it('offers the identity provider on the sign-in page, and no development sign-in', async () => {
    const page = await app.request('/login');
    const body = await page.text();
    expect(page.status).toBe(200);
    expect(body).toContain('Sign in with your Payerbox account');
    expect(body).not.toContain('Development sign-in');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('signs in: PKCE S256, state and nonce, the token in an HttpOnly Secure SameSite=Lax cookie', async () => {
    const { authorize, tx, callback } = await startSignIn('/portal');
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT_ID,
      code_challenge_method: 'S256',
      redirect_uri: 'http://localhost/login/callback',
      scope: 'openid profile',
    });
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tx.line).toMatch(/HttpOnly/i);
    expect(tx.line).toMatch(/Secure/i);
    expect(tx.line).toMatch(/SameSite=Lax/i);

    const done = await app.request(`${callback.pathname}${callback.search}`, {
      headers: { Cookie: tx.pair },
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('Location')).toBe('/portal');
    const session = cookieFrom(done, '__Host-bsr_session');
    expect(session.line).toMatch(/HttpOnly/i);
    expect(session.line).toMatch(/Secure/i);
    expect(session.line).toMatch(/SameSite=Lax/i);
    expect(session.line).toMatch(/Path=\//);
    // Sealed: the bearer token is not readable from the cookie.
    expect(session.line).not.toMatch(/eyJ/);

    const portal = await app.request('/portal', { headers: { Cookie: session.pair } });
    expect(portal.status).toBe(200);
    const html = await portal.text();
    expect(html).toMatch(/Signed in as\s*<strong>olivia<\/strong>/);
    expect(html).toContain('Backend Services');

    // Sign-out needs the CSRF token too.
    const forged = await app.request('/logout', {
      method: 'POST',
      headers: { Cookie: session.pair, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(forged.status).toBe(403);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const out = await app.request('/logout', {
      method: 'POST',
      headers: {
        Cookie: session.pair,
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'http://localhost',
      },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(cookieFrom(out, '__Host-bsr_session').line).toMatch(/Max-Age=0/);
    // The session ends at the provider too (RP-Initiated Logout), coming back to our sign-in page.
    const endSession = new URL(out.headers.get('Location')!);
    expect(`${endSession.origin}${endSession.pathname}`).toBe(`${provider.url}/logout`);
    expect(Object.fromEntries(endSession.searchParams)).toEqual({
      client_id: CLIENT_ID,
      post_logout_redirect_uri: 'http://localhost/login?notice=signed-out',
    });
    // The server forgot the session: the cookie copied before sign-out no longer opens the portal.
    const replayed = await app.request('/portal', { headers: { Cookie: session.pair } });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get('Location')).toMatch(/^\/login/);
  });

  it('after the callback, next= stays on our origin', async () => {
    for (const [next, landing] of [
      ['/\t/evil.example', '/portal'],
      ['/%09/evil.example', '/portal'],
      ['//evil.example', '/portal'],
      ['/\\evil.example', '/portal'],
      ['https://evil.example', '/portal'],
      ['/portal/services/x', '/portal/services/x'], // negative control: our own path is kept
    ]) {
      const { tx, callback } = await startSignIn(next);
      const done = await app.request(`${callback.pathname}${callback.search}`, {
        headers: { Cookie: tx.pair },
      });
      expect(done.status, next).toBe(303);
      expect(done.headers.get('Location'), next).toBe(landing);
    }
  });

  it('refuses a callback whose state does not match, or without the transaction cookie', async () => {
    const { tx, callback } = await startSignIn();
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'forged');
    const wrongState = await app.request(`${tampered.pathname}${tampered.search}`, {
      headers: { Cookie: tx.pair },
    });
    expect(wrongState.status).toBe(400);
    expect(await wrongState.text()).toContain('unknown or expired');
    const noCookie = await app.request(`${callback.pathname}${callback.search}`);
    expect(noCookie.status).toBe(400);
    expect(await signedIn(noCookie)).toBe(false);
  });

  it('refuses an ID token that does not answer this sign-in (nonce)', async () => {
    provider.fault = 'wrong-nonce';
    try {
      const { tx, callback } = await startSignIn();
      const done = await app.request(`${callback.pathname}${callback.search}`, {
        headers: { Cookie: tx.pair },
      });
      expect(done.status).toBe(502);
      expect(await done.text()).toContain('nonce');
      expect(await signedIn(done)).toBe(false);
    } finally {
      provider.fault = 'none';
    }
  });

  it('never redirects off the site after sign-in', () => {
    const origin = 'https://registry.payerbox.test';
    expect(safeNext('/portal/services/bs-1?tab=a#h', origin)).toBe('/portal/services/bs-1?tab=a#h');
    for (const next of [
      '//evil.example/x',
      'https://evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/\r/evil.example',
      '/\n/evil.example',
      '/%09/evil.example',
      '/%2F/evil.example',
      '/%5Cevil.example',
      '/%E0%A4%A',
      'javascript:alert(1)',
      '',
      undefined,
    ])
      expect(safeNext(next, origin), String(next)).toBeNull();
  });

  it('in production without UI_SESSION_SECRET the pages answer 503 and the API keeps working', async () => {
    const bare = composeApp({
      config: testConfig({ APP_MODE: 'production', AUTH_DEV_ISSUER: 'false', AUTH_ISSUER: provider.url }),
      db,
      temporal,
      log: createLogger('ui-test', 'silent'),
    });
    const page = await bare.request('/portal');
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('UI_SESSION_SECRET');
    expect((await bare.request('/healthz')).status).toBe(200);
  });
});
