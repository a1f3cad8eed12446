/**
 * The stand-in over HTTP: REST semantics (docs/aidbox-contract.md §6), admin Basic auth, discovery
 * (section 5), Bearer tokens, enforcement and revocation (sections 2, 4, 8), export (section 5) and
 * fault injection.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from './server.js';
import { basic, call, tokenRequest } from '../test-support/standin-http.js';

const ROOT = basic('root', 'root-secret-for-tests');
let standin: Standin;
const get = (path: string, auth = ROOT) => call(standin.url, 'GET', path, { auth });
/** A transaction Bundle of these entries, posted as the root client. */
const transaction = (entry: object[]) =>
  call(standin.url, 'POST', '/fhir', {
    auth: ROOT,
    body: { resourceType: 'Bundle', type: 'transaction', entry },
  });

beforeAll(async () => {
  standin = await startStandin({ rootClientSecret: 'root-secret-for-tests', sampleData: true });
});
afterAll(() => standin?.stop());
afterEach(() => standin?.faults.clear());

describe('REST semantics (section 6)', () => {
  it('PUT creates (201) then updates (200), bumping meta.versionId; the URL id wins', async () => {
    const first = await call(standin.url, 'PUT', '/fhir/Patient/rest-1', {
      auth: ROOT,
      body: { resourceType: 'Patient', id: 'other', gender: 'male' },
    });
    expect(first.status).toBe(201);
    expect(first.body.id).toBe('rest-1');
    const second = await call(standin.url, 'PUT', '/fhir/Patient/rest-1', {
      auth: ROOT,
      body: { resourceType: 'Patient', gender: 'female' },
    });
    expect(second.status).toBe(200);
    expect(Number(second.body.meta.versionId)).toBeGreaterThan(Number(first.body.meta.versionId));
    expect(second.headers.get('etag')).toBe(`W/"${second.body.meta.versionId}"`);
  });

  it('GET answers 404 for never-existing, 410 for deleted; DELETE answers 200 with the body, then 204', async () => {
    expect((await get('/fhir/Patient/never')).status).toBe(404);
    await call(standin.url, 'PUT', '/fhir/Patient/rest-del', {
      auth: ROOT,
      body: { resourceType: 'Patient' },
    });
    const deleted = await call(standin.url, 'DELETE', '/fhir/Patient/rest-del', { auth: ROOT });
    expect(deleted.status).toBe(200);
    expect(deleted.body.id).toBe('rest-del');
    expect((await call(standin.url, 'DELETE', '/fhir/Patient/rest-del', { auth: ROOT })).status).toBe(204);
    const gone = await get('/fhir/Patient/rest-del');
    expect(gone.status).toBe(410);
    expect(gone.body.resourceType).toBe('OperationOutcome');
  });

  it('If-Match: a stale version and `*` on an absent resource answer 412', async () => {
    const created = await call(standin.url, 'PUT', '/fhir/Patient/rest-if', {
      auth: ROOT,
      body: { resourceType: 'Patient' },
    });
    const ok = await call(standin.url, 'PUT', '/fhir/Patient/rest-if', {
      auth: ROOT,
      body: { resourceType: 'Patient' },
      headers: { 'If-Match': `W/"${created.body.meta.versionId}"` },
    });
    expect(ok.status).toBe(200);
    const stale = await call(standin.url, 'PUT', '/fhir/Patient/rest-if', {
      auth: ROOT,
      body: { resourceType: 'Patient' },
      headers: { 'If-Match': created.body.meta.versionId },
    });
    expect(stale.status).toBe(412);
    const absent = await call(standin.url, 'PUT', '/fhir/Patient/rest-if-absent', {
      auth: ROOT,
      body: { resourceType: 'Patient' },
      headers: { 'If-Match': '*' },
    });
    expect(absent.status).toBe(412);
  });

  it('Client secrets are stored and returned hashed; merge-patch keeps the secret; a full PUT without it drops it', async () => {
    const body = {
      resourceType: 'Client',
      active: true,
      grant_types: ['client_credentials'],
      secret: 'plain-secret-1',
      scope: ['system/Patient.rs'],
    };
    const put = await call(standin.url, 'PUT', '/fhir/Client/bs-rest', { auth: ROOT, body });
    expect(put.body.secret).toMatch(/^sha256\$/);
    expect(JSON.stringify((await get('/fhir/Client/bs-rest')).body)).not.toContain('plain-secret-1');
    const patched = await call(standin.url, 'PATCH', '/fhir/Client/bs-rest', {
      auth: ROOT,
      body: { active: false },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ active: false, secret: put.body.secret });
    const rotated = await call(standin.url, 'PATCH', '/fhir/Client/bs-rest', {
      auth: ROOT,
      body: { secret: 'plain-secret-2' },
      contentType: 'application/merge-patch+json',
    });
    expect(rotated.body.secret).not.toBe(put.body.secret);
    const { secret: _dropped, ...withoutSecret } = body;
    const replaced = await call(standin.url, 'PUT', '/fhir/Client/bs-rest', {
      auth: ROOT,
      body: withoutSecret,
    });
    expect(replaced.body.secret).toBeUndefined();
  });

  it('PATCH of a missing resource answers 404; a JSON Patch body that is not an array answers 400', async () => {
    expect(
      (
        await call(standin.url, 'PATCH', '/fhir/Client/bs-missing', {
          auth: ROOT,
          body: { active: false },
          contentType: 'application/merge-patch+json',
        })
      ).status,
    ).toBe(404);
    await call(standin.url, 'PUT', '/fhir/Patient/rest-jp', {
      auth: ROOT,
      body: { resourceType: 'Patient' },
    });
    expect(
      (
        await call(standin.url, 'PATCH', '/fhir/Patient/rest-jp', {
          auth: ROOT,
          body: { op: 'add' },
          contentType: 'application/json-patch+json',
        })
      ).status,
    ).toBe(400);
  });

  it.each([
    ['unknown engine', 'AccessPolicy', { engine: 'magic' }],
    ['matcho without a pattern', 'AccessPolicy', { engine: 'matcho' }],
    [
      'complex with both and/or',
      'AccessPolicy',
      { engine: 'complex', and: [{ engine: 'allow' }], or: [{ engine: 'allow' }] },
    ],
    ['grant type outside the list', 'Client', { grant_types: ['client_credentials', 'magic'] }],
    ['jwks_uri not a URL', 'Client', { jwks_uri: 'not a url' }],
    ['resourceType contradicting the URL', 'Client', { resourceType: 'Patient' }],
  ])('422 OperationOutcome for %s', async (_name, type, body) => {
    const response = await call(standin.url, 'PUT', `/fhir/${type}/shape-test`, { auth: ROOT, body });
    expect(response.status).toBe(422);
    expect(response.body.resourceType).toBe('OperationOutcome');
  });

  it('bad input never answers 500: invalid JSON 400, unknown type 404, unknown route 404', async () => {
    expect(
      (await call(standin.url, 'PUT', '/fhir/Patient/x', { auth: ROOT, body: '{not json' })).status,
    ).toBe(400);
    expect((await get('/fhir/Nonsense/x')).status).toBe(404);
    expect((await get('/fhir/Patient/x/y/z/w/v')).status).toBe(404);
  });

  it('transaction bundles are atomic: one failing entry rolls back all', async () => {
    const bad = await transaction([
      {
        request: { method: 'PUT', url: 'Client/bs-tx' },
        resource: { resourceType: 'Client', active: true, grant_types: ['client_credentials'] },
      },
      { request: { method: 'PUT', url: 'AccessPolicy/bs-tx--1' }, resource: { engine: 'magic' } },
    ]);
    expect(bad.status).toBe(422);
    expect((await get('/fhir/Client/bs-tx')).status).toBe(404);
    const good = await transaction([
      {
        request: { method: 'PUT', url: 'Client/bs-tx' },
        resource: { resourceType: 'Client', active: true, grant_types: ['client_credentials'] },
      },
      {
        request: { method: 'PUT', url: 'AccessPolicy/bs-tx--1' },
        resource: { engine: 'allow', link: [{ reference: 'Client/bs-tx' }] },
      },
      { request: { method: 'DELETE', url: 'AccessPolicy/bs-tx--stale' } },
    ]);
    expect(good.status).toBe(200);
    expect(good.body.type).toBe('transaction-response');
    expect(good.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual([
      '201',
      '201',
      '204',
    ]);
  });

  it('a failed transaction puts back what it changed: an updated resource, its history and a deleted one', async () => {
    const put = (url: string, resource: object) =>
      call(standin.url, 'PUT', `/fhir/${url}`, { auth: ROOT, body: resource });
    await put('Client/bs-tx-undo', { active: true, grant_types: ['client_credentials'] });
    await put('AccessPolicy/bs-tx-undo--1', { engine: 'allow', link: [{ reference: 'Client/bs-tx-undo' }] });
    const before = (await get('/fhir/Client/bs-tx-undo')).body;
    const historyBefore = (await get('/fhir/Client/bs-tx-undo/_history')).body.entry.length;
    const bad = await transaction([
      { request: { method: 'PUT', url: 'Client/bs-tx-undo' }, resource: { active: false } },
      { request: { method: 'DELETE', url: 'AccessPolicy/bs-tx-undo--1' } },
      { request: { method: 'PUT', url: 'AccessPolicy/bs-tx-undo--2' }, resource: { engine: 'magic' } },
    ]);
    expect(bad.status).toBe(422);
    expect((await get('/fhir/Client/bs-tx-undo')).body).toEqual(before);
    expect((await get('/fhir/Client/bs-tx-undo/_history')).body.entry).toHaveLength(historyBefore);
    expect((await get('/fhir/AccessPolicy/bs-tx-undo--1')).status).toBe(200);
    // Negative control: the same entries as a batch keep what succeeded.
    await call(standin.url, 'POST', '/fhir', {
      auth: ROOT,
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ request: { method: 'PUT', url: 'Client/bs-tx-undo' }, resource: { active: false } }],
      },
    });
    expect((await get('/fhir/Client/bs-tx-undo')).body.active).toBe(false);
  });

  it('search pages with _count/_page and a next link; custom params find sessions and policies', async () => {
    const page = await get('/fhir/Patient?_count=2&_page=1');
    expect(page.body.entry).toHaveLength(2);
    expect(page.body.total).toBeGreaterThan(2);
    expect(page.body.link.some((l: { relation: string }) => l.relation === 'next')).toBe(true);
    await call(standin.url, 'PUT', '/fhir/AccessPolicy/bs-find--1', {
      auth: ROOT,
      body: { engine: 'allow', link: [{ reference: 'Client/bs-find' }] },
    });
    const linked = await get('/fhir/AccessPolicy?link=Client/bs-find');
    expect(linked.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['bs-find--1']);
  });
});

describe('admin auth, health and discovery (sections 5, 6)', () => {
  it('401 OperationOutcome without or with bad credentials', async () => {
    expect((await get('/fhir/Client', '')).status).toBe(401);
    const bad = await get('/fhir/Client', basic('root', 'wrong'));
    expect(bad.status).toBe(401);
    expect(bad.body.resourceType).toBe('OperationOutcome');
  });

  it('a Basic client (grant type basic) is authenticated, then decided by its policies', async () => {
    await call(standin.url, 'PUT', '/fhir/Client/svc-basic', {
      auth: ROOT,
      body: { active: true, grant_types: ['basic'], secret: 'svc-secret' },
    });
    expect((await get('/fhir/Patient', basic('svc-basic', 'svc-secret'))).status).toBe(403);
    await call(standin.url, 'PUT', '/fhir/AccessPolicy/svc-basic', {
      auth: ROOT,
      body: { engine: 'allow', link: [{ reference: 'Client/svc-basic' }] },
    });
    expect((await get('/fhir/Patient', basic('svc-basic', 'svc-secret'))).status).toBe(200);
  });

  it('serves /health, smart-configuration, metadata with oauth-uris, and its JWKS', async () => {
    expect((await get('/health', '')).body.status).toBe('pass');
    const smart = (await get('/.well-known/smart-configuration', '')).body;
    expect(smart).toMatchObject({
      token_endpoint: `${standin.url}/auth/token`,
      jwks_uri: `${standin.url}/.well-known/jwks.json`,
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    });
    const metadata = (await get('/fhir/metadata', '')).body;
    const oauth = metadata.rest[0].security.extension[0];
    expect(oauth.url).toBe('http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
    expect(oauth.extension).toContainEqual({ url: 'token', valueUri: `${standin.url}/auth/token` });
    expect((await get('/.well-known/jwks.json', '')).body.keys[0]).toMatchObject({
      kty: 'RSA',
      alg: 'RS256',
    });
  });
});

describe('Bearer tokens, enforcement, revocation (sections 2, 4, 8)', () => {
  async function provisionReadClient(id: string, type = 'bulk-api-client') {
    await call(standin.url, 'PUT', `/fhir/Client/${id}`, {
      auth: ROOT,
      body: {
        active: true,
        type,
        grant_types: ['client_credentials'],
        secret: 'tok-secret',
        scope: ['system/Patient.rs', 'system/Encounter.rs'],
        auth: { client_credentials: { token_format: 'jwt' } },
      },
    });
    await call(standin.url, 'PUT', `/fhir/AccessPolicy/${id}--read`, {
      auth: ROOT,
      body: {
        engine: 'matcho',
        link: [{ reference: `Client/${id}` }],
        matcho: {
          client: { id, active: true },
          uri: '#^/fhir/',
          operation: { id: { $enum: ['FhirRead', 'FhirSearch'] } },
          params: { 'resource/type': 'Patient' },
        },
      },
    });
    const token = await tokenRequest(
      standin.url,
      { grant_type: 'client_credentials', scope: 'system/Patient.rs system/Encounter.rs' },
      basic(id, 'tok-secret'),
    );
    return `Bearer ${token.body.access_token}`;
  }

  it('allows what the policy allows and answers 403 OperationOutcome otherwise', async () => {
    const bearer = await provisionReadClient('bs-enf');
    expect((await get('/fhir/Patient?_count=1', bearer)).status).toBe(200);
    const denied = await get('/fhir/Encounter', bearer);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ resourceType: 'OperationOutcome', id: 'forbidden' });
  });

  it('deactivating the client (active false) cuts access through the policy at once', async () => {
    const bearer = await provisionReadClient('bs-deact');
    await call(standin.url, 'PATCH', '/fhir/Client/bs-deact', {
      auth: ROOT,
      body: { active: false },
      contentType: 'application/merge-patch+json',
    });
    expect((await get('/fhir/Patient', bearer)).status).toBe(403);
  });

  it('a token whose Session is deleted no longer works (401)', async () => {
    const bearer = await provisionReadClient('bs-revoke');
    const sessions = await get('/fhir/Session?client=Client/bs-revoke');
    expect(sessions.body.total).toBe(1);
    await call(standin.url, 'DELETE', `/fhir/Session/${sessions.body.entry[0].resource.id}`, { auth: ROOT });
    const revoked = await get('/fhir/Patient', bearer);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('a garbage bearer token answers 401', async () => {
    expect((await get('/fhir/Patient', 'Bearer nonsense.token.here')).status).toBe(401);
  });

  it('smart-app tokens (atv 2) are also checked against their scopes (section 2.5)', async () => {
    const bearer = await provisionReadClient('bs-scoped', 'smart-app');
    await call(standin.url, 'PUT', '/fhir/AccessPolicy/bs-scoped--all', {
      auth: ROOT,
      body: { engine: 'allow', link: [{ reference: 'Client/bs-scoped' }] },
    });
    expect((await get('/fhir/Encounter', bearer)).status).toBe(200); // scope and policy allow
    expect((await get('/fhir/Observation', bearer)).status).toBe(403); // policy allows, no scope covers it
  });
});

describe('bulk export (section 5)', () => {
  it('kick-off 202 + Content-Location, status 202 then manifest, files with the token only, DELETE', async () => {
    const kickOff = await call(standin.url, 'GET', '/fhir/Group/group-1/$export?_type=Patient,Observation', {
      auth: ROOT,
      headers: { Prefer: 'respond-async' },
    });
    expect(kickOff.status).toBe(202);
    const location = kickOff.headers.get('content-location')!;
    expect(location).toMatch(/\/fhir\/\$export-status\//);
    // One running export per client: the same client again gets 429 with Retry-After.
    const throttled = await call(standin.url, 'GET', '/fhir/$export', {
      auth: ROOT,
      headers: { Prefer: 'respond-async' },
    });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    const statusPath = new URL(location).pathname;
    const pending = await get(statusPath);
    expect(pending.status).toBe(202);
    expect(pending.headers.get('x-progress')).toBeTruthy();
    const manifest = await get(statusPath);
    expect(manifest.status).toBe(200);
    expect(manifest.body.requiresAccessToken).toBe(true);
    const patients = manifest.body.output.find((o: { type: string }) => o.type === 'Patient');
    expect(patients.count).toBe(3);
    expect((await fetch(patients.url)).status).toBe(401);
    const file = await fetch(patients.url, { headers: { Authorization: ROOT } });
    expect((await file.text()).trim().split('\n')).toHaveLength(3);
    expect((await call(standin.url, 'DELETE', statusPath, { auth: ROOT })).status).toBe(202);
    expect((await get(statusPath)).status).toBe(404);
  });

  it('a kick-off without Prefer: respond-async is 400 with an OperationOutcome as application/fhir+json', async () => {
    const refused = await call(standin.url, 'GET', '/fhir/$export?_type=Patient', { auth: ROOT });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toBe('application/fhir+json');
    expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(refused.body.issue[0].diagnostics).toContain('respond-async');
    // Negative control: the same kick-off with the header is accepted.
    const accepted = await call(standin.url, 'GET', '/fhir/$export?_type=Patient', {
      auth: ROOT,
      headers: { Prefer: 'respond-async' },
    });
    expect(accepted.status).toBe(202);
    await call(standin.url, 'DELETE', new URL(accepted.headers.get('content-location')!).pathname, {
      auth: ROOT,
    });
  });

  it('FHIR errors are application/fhir+json, Aidbox-format errors application/json', async () => {
    expect((await get('/fhir/Patient/nope')).headers.get('content-type')).toBe('application/fhir+json');
    expect((await get('/Patient/nope')).headers.get('content-type')).toBe('application/json');
  });

  it('the CapabilityStatement lists system, Patient and Group export', async () => {
    const metadata = await get('/fhir/metadata', '');
    const rest = metadata.body.rest[0];
    expect(rest.operation).toEqual([expect.objectContaining({ name: 'export' })]);
    const operationOf = (type: string) =>
      rest.resource.find((r: { type: string }) => r.type === type).operation?.[0]?.definition;
    expect(operationOf('Patient')).toBe('http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export');
    expect(operationOf('Group')).toBe('http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export');
    expect(operationOf('Observation')).toBeUndefined();
  });
});

describe('fault injection', () => {
  it('answers 503 at the configured error rate, and a scripted error after applying the write', async () => {
    standin.setFaults({ errorRate: 1 });
    expect((await get('/fhir/Patient')).status).toBe(503);
    expect((await get('/health', '')).status).toBe(200);
    standin.setFaults({ errorRate: 0 });
    standin.failNext({ kind: 'error-after', method: 'PUT', path: /^\/fhir\/Patient\/fault-1$/ });
    expect(
      (
        await call(standin.url, 'PUT', '/fhir/Patient/fault-1', {
          auth: ROOT,
          body: { resourceType: 'Patient' },
        })
      ).status,
    ).toBe(503);
    expect((await get('/fhir/Patient/fault-1')).status).toBe(200);
  });

  it('drops connections and adds latency', async () => {
    standin.setFaults({ dropRate: 1 });
    await expect(
      fetch(`${standin.url}/fhir/Patient`, { headers: { Authorization: ROOT } }),
    ).rejects.toThrow();
    standin.setFaults({ dropRate: 0, latencyMs: 150 });
    const started = Date.now();
    await get('/fhir/Patient/test-pt-1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('calls the after-Client-PUT hook after the write is applied, before the response', async () => {
    const seen: string[] = [];
    standin.hooks.afterClientPut = (client) => {
      seen.push(`${client.id}:${standin.store.get('Client', client.id) ? 'stored' : 'missing'}`);
    };
    try {
      await call(standin.url, 'PUT', '/fhir/Client/bs-hook', {
        auth: ROOT,
        body: { active: true, grant_types: ['client_credentials'] },
      });
    } finally {
      standin.hooks.afterClientPut = undefined;
    }
    expect(seen).toEqual(['bs-hook:stored']);
  });
});

describe('bad input never answers 500', () => {
  it('random methods, paths and JSON bodies', async () => {
    const path = fc.constantFrom(
      '/fhir',
      '/fhir/Client/fuzz',
      '/fhir/AccessPolicy/fuzz',
      '/fhir/Patient/fuzz',
      '/fhir/Patient',
      '/fhir/Patient/_search',
      '/Client/fuzz',
      '/fhir/$export',
      '/fhir/Group/group-1/$export',
      '/fhir/$export-status/nope',
      '/auth/token',
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({
        resourceType: fc.constantFrom('Bundle', 'Client', 'AccessPolicy'),
        type: fc.constantFrom('transaction', 'batch'),
        entry: fc.array(fc.jsonValue(), { maxLength: 3 }),
      }),
      fc.array(
        fc.record({
          op: fc.constantFrom('add', 'replace', 'remove', 'test', 'move'),
          path: fc.constantFrom('/gender/x', '/a/b', '/name/0', '/-', ''),
          value: fc.jsonValue(),
        }),
        { maxLength: 3 },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'POST', 'PATCH', 'DELETE'),
        path,
        body,
        fc.constantFrom(
          'application/json',
          'application/merge-patch+json',
          'application/json-patch+json',
          'application/x-www-form-urlencoded',
        ),
        async (method, target, json, contentType) => {
          const response = await call(standin.url, method, target, {
            auth: ROOT,
            body: method === 'GET' || method === 'DELETE' ? undefined : json,
            contentType,
          });
          expect(response.status, `${method} ${target} ${JSON.stringify(json)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 300 },
    );
  });
});
