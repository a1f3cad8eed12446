import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeApp } from '../api/compose.js';
import { identityFromConfig } from '../api/auth/from-config.js';
import { routeTestResources, testConfig } from '../test-support/api-harness.js';
import { createSessionStore } from '../db/session-store.js';
import { createLogger } from '../platform/logger.js';

/**
 * Development sign-in over HTTP: where `next=` may send the browser, and that sign-out ends the
 * session on the server (a copy of the cookie is refused afterwards), and that expired sessions go.
 */
describe('development sign-in: redirects and server-side sessions', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-dev-sign-in-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = testConfig({ AUTH_DEV_ISSUER: 'true', DATA_DIR: dataDir });
  const { db, temporal } = routeTestResources(config);
  const { verifier } = await identityFromConfig(config);
  const sessions = createSessionStore(db);
  const app = composeApp({
    config,
    db,
    temporal,
    verifier,
    uiSessions: sessions,
    log: createLogger('ui-test', 'silent'),
  });

  const cookieOf = (response: Response) =>
    response.headers
      .getSetCookie()
      .find((c) => c.startsWith('bsr_session='))
      ?.split(';')[0] ?? '';

  /** The sign-in page's CSRF token and anonymous session, then a development sign-in as alice. */
  async function signIn(next: string) {
    const page = await app.request('/login');
    const anonymous = cookieOf(page);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const response = await app.request('/login/dev', {
      method: 'POST',
      headers: { Cookie: anonymous, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, sub: 'alice', 'role-developer': 'on', next }).toString(),
    });
    expect(response.status).toBe(303);
    return { location: response.headers.get('Location'), cookie: cookieOf(response) };
  }

  it('CSRF: a POST with the right token but a foreign Origin is refused; the same POST from our origin is not', async () => {
    const page = await app.request('http://localhost/login');
    const anonymous = cookieOf(page);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const post = (origin: string) =>
      app.request('http://localhost/login/dev', {
        method: 'POST',
        headers: {
          Cookie: anonymous,
          Origin: origin,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ _csrf: csrf, sub: 'mallory', 'role-admin': 'on' }).toString(),
      });
    // The Origin check alone: the token is valid, only the Origin is another site's.
    const foreign = await post('https://attacker.example');
    expect(foreign.status).toBe(403);
    expect(cookieOf(foreign)).not.toMatch(/^bsr_session=.+/);
    // Negative control: the same token from our own origin signs in.
    const own = await post('http://localhost');
    expect(own.status).toBe(303);
  });

  it('next= is kept only when it names a path on our origin', async () => {
    for (const next of [
      '/\t/evil.example',
      '/%09/evil.example',
      '//evil.example',
      '/\\evil.example',
      'https://evil.example',
    ])
      expect((await signIn(next)).location, JSON.stringify(next)).toBe('/portal');
    // Negative control: our own page is where the user goes.
    expect((await signIn('/portal/services/x')).location).toBe('/portal/services/x');
  });

  it('sign-out ends the session: a cookie copied before it gets the sign-in page', async () => {
    const { cookie } = await signIn('/portal');
    const portal = await app.request('/portal', { headers: { Cookie: cookie } });
    expect(portal.status).toBe(200); // negative control: the copy works before sign-out
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await portal.text())![1]!;
    const copy = cookie;
    const out = await app.request('/logout', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('Location')).toBe('/login?notice=signed-out');
    const after = await app.request('/portal', { headers: { Cookie: copy } });
    expect(after.status).toBe(303);
    expect(after.headers.get('Location')).toBe('/login?next=%2Fportal');
  });

  it('an expired session is not live and is purged at the next sign-in', async () => {
    const expired = await sessions.create({ subject: 'old', expiresAt: new Date(Date.now() - 1000) });
    const live = await sessions.create({ subject: 'new', expiresAt: new Date(Date.now() + 60_000) });
    expect(await sessions.isLive(expired)).toBe(false);
    expect(await sessions.isLive(live)).toBe(true);
    const rows = await db.selectFrom('ui_sessions').select('subject').where('subject', '=', 'old').execute();
    expect(rows).toEqual([]);
    await sessions.end(live);
    expect(await sessions.isLive(live)).toBe(false);
  });
});
