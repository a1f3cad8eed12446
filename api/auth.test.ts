import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/database.js';
import { apiSchema, checkAuthConfig, ConfigError, parseConfig } from '../platform/config.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import { identityFromConfig } from './auth/from-config.js';
import {
  DEVELOPMENT_ISSUER,
  DEVELOPMENT_ISSUER_KEY_FILE,
  createInMemoryIssuer,
} from './auth/local-issuer.js';
import { createTokenVerifier, localKeys } from './auth/verifier.js';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  buildApp,
  createIdentities,
  testConfig,
} from '../test-support/api-harness.js';

describe('identity: bearer JWTs of the configured issuer', async () => {
  const db = createDb(testConfig().DATABASE_URL, { poolSize: 2 });
  const temporal = createTemporalClient(testConfig());
  afterAll(async () => {
    await db.destroy();
    await temporal.connection.close().catch(() => undefined);
  });
  const ids = await createIdentities();
  const app = buildApp(db, temporal, ids);
  const list = (headers: Record<string, string> = {}) => app.request('/v1/backend-services', { headers });

  it('answers 401 problem+json with a Bearer challenge without a token', async () => {
    const response = await list();
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toMatchObject({ type: '/problems/unauthenticated', status: 401 });
  });

  it('accepts a valid token and reads roles from the roles claim', async () => {
    const response = await list(await ids.bearer(`nobody-${Date.now()}`, ['developer']));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['expired', async () => ids.token('alice', ['developer'], { expiresInSeconds: -120 })],
    [
      'signed by another key under the same issuer name',
      async () => ids.impostor.sign('alice', ['developer']),
    ],
    [
      'from another issuer',
      async () =>
        (await createInMemoryIssuer({ issuer: 'https://elsewhere.invalid', audience: TEST_AUDIENCE })).sign(
          'alice',
          ['developer'],
        ),
    ],
    [
      'for another audience',
      async () =>
        (await createInMemoryIssuer({ issuer: TEST_ISSUER, audience: 'other' })).sign('alice', ['developer']),
    ],
    [
      'HMAC-signed',
      async () =>
        new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(TEST_ISSUER)
          .setAudience(TEST_AUDIENCE)
          .setSubject('mallory')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('a-shared-secret-anyone-could-know-0123456789')),
    ],
    ['not a JWT', async () => 'not-a-jwt'],
  ])('refuses a token %s with 401 invalid_token', async (_name, make) => {
    const response = await list({ Authorization: `Bearer ${await make()}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('refuses a token without roles for role-bound routes with 403', async () => {
    const response = await list(await ids.bearer('alice', []));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ type: '/problems/forbidden' });
  });

  it('reads roles from a nested claim when AUTH_ROLES_CLAIM is a dotted path', async () => {
    const issuer = await createInMemoryIssuer({
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      rolesClaim: 'realm_access.roles',
    });
    const verify = createTokenVerifier([
      {
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        keys: localKeys(issuer.jwks),
        rolesClaim: 'realm_access.roles',
      },
    ]);
    expect(await verify(await issuer.sign('bob', ['admin', 'developer']))).toEqual({
      sub: 'bob',
      roles: ['admin', 'developer'],
    });
  });
});

describe('the development issuer', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is on in development mode: a key pair generated into DATA_DIR (0600) signs tokens the API accepts', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-dev-issuer-'));
    dirs.push(dataDir);
    const config = parseConfig(apiSchema, { APP_MODE: 'development', DATA_DIR: dataDir });
    checkAuthConfig(config);
    const { verifier, developmentIssuer } = await identityFromConfig(config);
    expect(developmentIssuer?.issuer).toBe(DEVELOPMENT_ISSUER);
    expect(statSync(path.join(dataDir, DEVELOPMENT_ISSUER_KEY_FILE)).mode & 0o777).toBe(0o600);
    const token = await developmentIssuer!.sign('carol', ['developer', 'admin']);
    expect(await verifier(token)).toEqual({ sub: 'carol', roles: ['developer', 'admin'] });
    // A second process (dev:token) reuses the same key.
    const again = await identityFromConfig(config);
    expect(await again.verifier(token)).toEqual({ sub: 'carol', roles: ['developer', 'admin'] });
  });

  it('is off in production mode, and production refuses to start with it turned on', async () => {
    const off = parseConfig(apiSchema, { APP_MODE: 'production', AUTH_ISSUER: TEST_ISSUER });
    checkAuthConfig(off);
    expect((await identityFromConfig({ ...off, AUTH_ISSUER: undefined })).developmentIssuer).toBeNull();

    const on = parseConfig(apiSchema, {
      APP_MODE: 'production',
      AUTH_ISSUER: TEST_ISSUER,
      AUTH_DEV_ISSUER: 'true',
    });
    expect(() => checkAuthConfig(on)).toThrow(ConfigError);
    expect(() => checkAuthConfig(on)).toThrow(/AUTH_DEV_ISSUER/);
    const none = parseConfig(apiSchema, { APP_MODE: 'production' });
    expect(() => checkAuthConfig(none)).toThrow(/AUTH_ISSUER/);
  });
});
