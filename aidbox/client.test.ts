/**
 * The Aidbox REST client against in-process stand-ins (127.0.0.1, port 0): both Client shapes,
 * secret-preserving updates, policies, disable, delete, Organizations, error classes, and a retry
 * after an injected 503 that leaves exactly one Client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../platform/ports.js';
import { startStandin, type Standin } from '../aidbox-standin/server.js';
import {
  AidboxClient,
  AidboxPermanentError,
  AidboxRetryableError,
  buildClientResource,
  type AccessPolicyResource,
  type AidboxConnection,
} from './client.js';

const ROOT_SECRET = 'root-secret-for-client-tests';
let sandbox: Standin;
let production: Standin;
let aidbox: AidboxClient;
let productionAidbox: AidboxClient;

const environment = (standin: Standin, name: AidboxConnection['name']): AidboxConnection => ({
  name,
  baseUrl: standin.url,
  clientId: 'root',
  clientSecret: ROOT_SECRET,
});

async function token(standin: Standin, clientId: string, secret: string, scope = 'system/Patient.rs') {
  const response = await fetch(`${standin.url}/auth/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  return { status: response.status, body: (await response.json()) as { access_token?: string } };
}

const policyFor = (clientId: string, suffix: string): AccessPolicyResource => ({
  resourceType: 'AccessPolicy',
  id: `${clientId}--${suffix}`,
  engine: 'matcho',
  link: [{ reference: `Client/${clientId}` }],
  matcho: {
    client: { id: clientId, active: true },
    uri: '#^/fhir/',
    operation: { id: { $enum: ['FhirRead', 'FhirSearch'] } },
    params: { 'resource/type': 'Patient' },
  },
});

beforeAll(async () => {
  [sandbox, production] = await Promise.all([
    startStandin({ rootClientSecret: ROOT_SECRET }),
    startStandin({ rootClientSecret: ROOT_SECRET, orgbac: true }),
  ]);
  aidbox = new AidboxClient(environment(sandbox, 'sandbox'), { timeoutMs: 3_000 });
  productionAidbox = new AidboxClient(environment(production, 'production'), { timeoutMs: 3_000 });
});
afterAll(async () => {
  await Promise.all([sandbox?.stop(), production?.stop()]);
});

describe('AidboxClient', () => {
  it('health: ok against a live instance, not ok (without throwing) against a closed port', async () => {
    expect(await aidbox.health()).toEqual({ ok: true, status: 200 });
    const closed = new AidboxClient({
      ...environment(sandbox, 'sandbox'),
      baseUrl: `http://127.0.0.1:${await freePort()}`,
    });
    const result = await closed.health();
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/^Aidbox GET \/health failed: network error/);
  });

  it('creates a secret Client (section 1.2) with its secret, then merge-patches changes and keeps the secret', async () => {
    const spec = {
      id: 'bs-cli-secret',
      name: 'Reporting',
      authentication: { method: 'client-secret' as const },
      scopes: ['system/Patient.rs'],
      active: true,
    };
    const created = await aidbox.upsertClient(buildClientResource(spec), { secret: 'first-secret-value' });
    expect(created.outcome).toBe('created');
    expect(created.client.secret).toMatch(/^sha256\$/);
    expect((await token(sandbox, 'bs-cli-secret', 'first-secret-value')).status).toBe(200);

    const again = await aidbox.upsertClient(buildClientResource(spec), { secret: 'ignored-on-update' });
    expect(again.outcome).toBe('unchanged');

    const { name: _name, ...withoutName } = spec;
    const changed = await aidbox.upsertClient(
      buildClientResource({
        ...withoutName,
        scopes: ['system/Patient.rs', 'system/Observation.rs'],
        status: 'active',
      }),
    );
    expect(changed.outcome).toBe('updated');
    expect(changed.client.scope).toEqual(['system/Patient.rs', 'system/Observation.rs']);
    expect(changed.client.name).toBeUndefined();
    expect(changed.client.meta?.extension).toContainEqual({
      url: 'http://aidbox.app/StructureDefinition/Client/status',
      valueCode: 'active',
    });
    expect((await token(sandbox, 'bs-cli-secret', 'first-secret-value')).status).toBe(200);
  });

  it('fetches the secret only to create a Client: an existing one is patched without reading the plaintext', async () => {
    const spec = {
      id: 'bs-cli-lazy-secret',
      name: 'Claims',
      authentication: { method: 'client-secret' as const },
      scopes: ['system/Patient.rs'],
      active: true,
    };
    const reads: string[] = [];
    const secretForNewClient = async () => {
      reads.push('read');
      return 'lazy-secret-value';
    };
    expect((await aidbox.upsertClient(buildClientResource(spec), { secretForNewClient })).outcome).toBe(
      'created',
    );
    expect((await token(sandbox, 'bs-cli-lazy-secret', 'lazy-secret-value')).status).toBe(200);
    expect(
      (await aidbox.upsertClient(buildClientResource({ ...spec, name: 'Claims 2' }), { secretForNewClient }))
        .outcome,
    ).toBe('updated');
    expect(reads).toEqual(['read']);
    expect((await token(sandbox, 'bs-cli-lazy-secret', 'lazy-secret-value')).status).toBe(200);
  });

  it('creates a JWKS Client (section 1.3) with the OrgBAC binding (1.4), and switches it to a secret on request', async () => {
    const spec = {
      id: 'bs-cli-jwks',
      authentication: {
        method: 'jwks-uri' as const,
        jwksUri: 'https://acme.example.com/.well-known/jwks.json',
      },
      scopes: ['system/*.read'],
      active: false,
      organizationId: 'org-payer-a',
    };
    const { client } = await productionAidbox.upsertClient(buildClientResource(spec));
    expect(client).toMatchObject({
      jwks_uri: spec.authentication.jwksUri,
      active: false,
      auth: {
        client_credentials: {
          client_assertion_types: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
          token_format: 'jwt',
          access_token_expiration: 300,
        },
      },
      meta: {
        extension: [
          {
            url: 'https://aidbox.app/tenant-organization-id',
            valueReference: { reference: 'Organization/org-payer-a' },
          },
        ],
      },
    });
    expect(client.secret).toBeUndefined();

    const switched = await productionAidbox.upsertClient(
      buildClientResource({ ...spec, authentication: { method: 'client-secret' }, active: true }),
      {
        secret: 'switched-secret',
        rotateSecret: true,
      },
    );
    expect(switched.client.jwks_uri).toBeUndefined();
    expect(switched.client.auth?.client_credentials?.client_assertion_types).toBeUndefined();
    expect((await token(production, 'bs-cli-jwks', 'switched-secret')).status).toBe(200);
  });

  it('rotates the secret: the old one stops working at once', async () => {
    await aidbox.upsertClient(
      buildClientResource({
        id: 'bs-cli-rotate',
        authentication: { method: 'client-secret' },
        scopes: ['system/Patient.rs'],
        active: true,
      }),
      { secret: 'old-secret' },
    );
    await aidbox.rotateSecret('bs-cli-rotate', 'new-secret');
    expect((await token(sandbox, 'bs-cli-rotate', 'old-secret')).status).toBe(400);
    expect((await token(sandbox, 'bs-cli-rotate', 'new-secret')).status).toBe(200);
  });

  it('upserts, lists and deletes the AccessPolicies linked to a client', async () => {
    await aidbox.upsertAccessPolicy(policyFor('bs-cli-pol', 'a'));
    expect((await aidbox.upsertAccessPolicy(policyFor('bs-cli-pol', 'a'))).outcome).toBe('updated');
    await aidbox.upsertAccessPolicy(policyFor('bs-cli-pol', 'b'));
    await aidbox.upsertAccessPolicy(policyFor('bs-cli-other', 'a'));
    expect((await aidbox.listAccessPoliciesForClient('bs-cli-pol')).map((p) => p.id).sort()).toEqual([
      'bs-cli-pol--a',
      'bs-cli-pol--b',
    ]);
    await aidbox.deleteAccessPolicy('bs-cli-pol--b');
    await aidbox.deleteAccessPolicy('bs-cli-pol--b'); // already gone: done
    await aidbox.deleteAccessPolicy('bs-cli-pol--never'); // never existed: done
    expect((await aidbox.listAccessPoliciesForClient('bs-cli-pol')).map((p) => p.id)).toEqual([
      'bs-cli-pol--a',
    ]);
  });

  it('disable: active false, policies removed, sessions revoked (the token stops working)', async () => {
    await aidbox.upsertClient(
      buildClientResource({
        id: 'bs-cli-off',
        authentication: { method: 'client-secret' },
        scopes: ['system/Patient.rs'],
        active: true,
      }),
      { secret: 'off-secret' },
    );
    await aidbox.upsertAccessPolicy(policyFor('bs-cli-off', 'read'));
    const { body } = await token(sandbox, 'bs-cli-off', 'off-secret');
    const bearer = { Authorization: `Bearer ${body.access_token}` };
    expect((await fetch(`${sandbox.url}/fhir/Patient`, { headers: bearer })).status).toBe(200);

    const result = await aidbox.disableClient('bs-cli-off', {
      meta: {
        extension: [{ url: 'http://aidbox.app/StructureDefinition/Client/status', valueCode: 'rejected' }],
      },
    });
    expect(result).toEqual({ clientFound: true, policiesRemoved: ['bs-cli-off--read'], sessionsRevoked: 1 });
    expect((await aidbox.readClient('bs-cli-off'))?.active).toBe(false);
    expect((await fetch(`${sandbox.url}/fhir/Patient`, { headers: bearer })).status).toBe(401);
    expect((await token(sandbox, 'bs-cli-off', 'off-secret')).status).toBe(400);
    expect(await aidbox.disableClient('bs-cli-off')).toMatchObject({
      clientFound: true,
      policiesRemoved: [],
      sessionsRevoked: 0,
    });
    expect(await aidbox.disableClient('bs-cli-never')).toEqual({
      clientFound: false,
      policiesRemoved: [],
      sessionsRevoked: 0,
    });
  });

  it('deletes a client with its policies; a second delete is done too', async () => {
    await aidbox.upsertClient(
      buildClientResource({
        id: 'bs-cli-del',
        authentication: { method: 'client-secret' },
        scopes: ['system/Patient.rs'],
        active: true,
      }),
      { secret: 'del-secret' },
    );
    await aidbox.upsertAccessPolicy(policyFor('bs-cli-del', 'read'));
    await aidbox.deleteClient('bs-cli-del');
    await aidbox.deleteClient('bs-cli-del');
    expect(await aidbox.readClient('bs-cli-del')).toBeUndefined();
    expect(await aidbox.listAccessPoliciesForClient('bs-cli-del')).toEqual([]);
  });

  it('lists Organizations with name search and paging', async () => {
    const all = await productionAidbox.listOrganizations();
    expect(all.resources.map((o) => o.id).sort()).toEqual(['org-payer-a', 'org-payer-a-east', 'org-payer-b']);
    const first = await productionAidbox.listOrganizations({ count: 2 });
    expect(first.resources).toHaveLength(2);
    expect(first.total).toBe(3);
    expect(first.nextPage).toBe(2);
    const second = await productionAidbox.listOrganizations({ count: 2, page: 2 });
    expect(second.resources).toHaveLength(1);
    expect(second.nextPage).toBeUndefined();
    expect(
      (await productionAidbox.listOrganizations({ name: 'payer a' })).resources.map((o) => o.id).sort(),
    ).toEqual(['org-payer-a', 'org-payer-a-east']);
  });
});

describe('AidboxClient errors and retries', () => {
  it('a 503 after the PUT was applied is retryable, and the retry leaves exactly one Client with a working secret', async () => {
    const before = sandbox.store.list('Client').length;
    sandbox.failNext({
      kind: 'error-after',
      method: 'PUT',
      path: /^\/fhir\/Client\/bs-cli-retry$/,
      status: 503,
    });
    const desired = buildClientResource({
      id: 'bs-cli-retry',
      authentication: { method: 'client-secret' },
      scopes: ['system/Patient.rs'],
      active: true,
    });
    const failure = await aidbox
      .upsertClient(desired, { secret: 'retry-secret' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AidboxRetryableError);
    expect(failure).toMatchObject({
      status: 503,
      method: 'PUT',
      path: '/fhir/Client/bs-cli-retry',
      message: 'Aidbox PUT /fhir/Client/bs-cli-retry answered 503',
    });

    const retried = await aidbox.upsertClient(desired, { secret: 'retry-secret' });
    expect(retried.outcome).toBe('unchanged');
    const clients = sandbox.store.list('Client');
    expect(clients.filter((c) => c.id === 'bs-cli-retry')).toHaveLength(1);
    expect(clients.length).toBe(before + 1);
    expect((await token(sandbox, 'bs-cli-retry', 'retry-secret')).status).toBe(200);
  });

  it('a 503 before anything was applied is retried by creating the Client', async () => {
    sandbox.failNext({
      kind: 'error-before',
      method: 'PUT',
      path: /^\/fhir\/Client\/bs-cli-retry2$/,
      status: 503,
    });
    const desired = buildClientResource({
      id: 'bs-cli-retry2',
      authentication: { method: 'client-secret' },
      scopes: ['system/Patient.rs'],
      active: true,
    });
    await expect(aidbox.upsertClient(desired, { secret: 's' })).rejects.toBeInstanceOf(AidboxRetryableError);
    expect((await aidbox.upsertClient(desired, { secret: 's' })).outcome).toBe('created');
  });

  it('429 is retryable with the Retry-After hint; 412 and 409 are retryable', async () => {
    for (const status of [429, 412, 409, 423, 408, 500]) {
      sandbox.failNext({
        kind: 'error-before',
        path: /^\/fhir\/Client\/bs-cli-x$/,
        status,
        retryAfterSeconds: 7,
      });
      const error = await aidbox.readClient('bs-cli-x').catch((e: unknown) => e);
      expect(error, String(status)).toBeInstanceOf(AidboxRetryableError);
      expect((error as AidboxRetryableError).retryAfterMs).toBe(7_000);
    }
  });

  it('422 is permanent and its message names method, path and status, never the body', async () => {
    const error = await aidbox
      .upsertAccessPolicy({ ...policyFor('bs-cli-bad', 'a'), engine: 'magic' as never })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AidboxPermanentError);
    expect((error as Error).message).toBe('Aidbox PUT /fhir/AccessPolicy/bs-cli-bad--a answered 422');
  });

  it('401 with wrong admin credentials is permanent', async () => {
    const wrong = new AidboxClient({ ...environment(sandbox, 'sandbox'), clientSecret: 'wrong' });
    await expect(wrong.readClient('x')).rejects.toBeInstanceOf(AidboxPermanentError);
  });

  it('a dropped connection and a timeout are retryable network errors', async () => {
    sandbox.failNext({ kind: 'drop', path: /^\/fhir\/Client\/bs-cli-drop$/ });
    await expect(aidbox.readClient('bs-cli-drop')).rejects.toBeInstanceOf(AidboxRetryableError);
    const slow = new AidboxClient(environment(sandbox, 'sandbox'), { timeoutMs: 100 });
    sandbox.setFaults({ latencyMs: 400 });
    try {
      const error = await slow.readClient('bs-cli-slow').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AidboxRetryableError);
      expect((error as Error).message).toBe('Aidbox GET /fhir/Client/bs-cli-slow failed: timed out');
    } finally {
      sandbox.setFaults({ latencyMs: 0 });
    }
  });
});
