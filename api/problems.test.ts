import { describe, expect, it } from 'vitest';
import { createDb } from '../db/database.js';
import { freePort } from '../platform/ports.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import { testCommandSigner } from '../test-support/command-keys.js';
import { UpdateRefused, createTemporalCommands, type BackendServiceCommands } from './services/commands.js';
import { rulesOnlyCommands } from '../test-support/rules-only-commands.js';
import {
  buildApp,
  createIdentities,
  jsonRequest,
  seedService,
  serviceState,
  testConfig,
  testSecretStore,
  validRegistration,
  routeTestResources,
} from '../test-support/api-harness.js';

/** Bad input → 400 naming the field; refusals → 409 with currentStatus; dependencies down → 503; never a 500. */
describe('errors are problem+json', async () => {
  const { config, db, temporal } = routeTestResources();
  const ids = await createIdentities();
  const secrets = testSecretStore(db);
  const app = buildApp(db, temporal, ids, { config, secrets, commands: rulesOnlyCommands(db, secrets) });
  const alice = await ids.bearer('alice', ['developer']);
  const admin = await ids.bearer('ada', ['admin']);

  async function problem(response: Response) {
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    return (await response.json()) as {
      type: string;
      status: number;
      errors?: Array<{ field: string; message: string }>;
      currentStatus?: string;
      detail: string;
    };
  }
  const create = (body: unknown, headers = alice) =>
    app.request('/v1/backend-services', jsonRequest('POST', body, headers));

  it('names an unknown field (strict bodies), also nested', async () => {
    const response = await create({
      ...validRegistration(),
      colour: 'blue',
      scopes: { version: 'v2', rules: [{ resource: 'Patient', operations: ['read'], extra: 1 }] },
    });
    expect(response.status).toBe(400);
    const body = await problem(response);
    expect(body.type).toBe('/problems/validation-error');
    expect(body.errors?.map((e) => e.field).sort()).toEqual(['/colour', '/scopes/rules/0/extra']);
  });

  it('names missing and malformed fields as JSON pointers', async () => {
    const response = await create({
      ...validRegistration({ contactEmail: 'not-an-email' }),
      name: undefined,
    });
    const body = await problem(response);
    expect(response.status).toBe(400);
    expect(body.errors?.map((e) => e.field).sort()).toEqual(['/contactEmail', '/name']);
  });

  it('names a scope the scopes module refuses, and a JWKS URL the credentials module refuses', async () => {
    const response = await create(
      validRegistration({
        authMethod: { type: 'jwks_uri', jwksUri: 'http://acme.example/jwks.json' },
        scopes: { version: 'v1', rules: [{ resource: 'Patinet', operations: ['read'] }] },
      }),
    );
    const body = await problem(response);
    expect(response.status).toBe(400);
    expect(body.errors?.map((e) => e.field).sort()).toEqual([
      '/authMethod/jwksUri',
      '/scopes/rules/0/operations',
      '/scopes/rules/0/resource',
    ]);
    expect(body.errors?.find((e) => e.field === '/scopes/rules/0/resource')?.message).toContain('Patient');
  });

  it('refuses an organizationId when OrgBAC is off', async () => {
    const body = await problem(await create(validRegistration({ organizationId: 'org-acme' })));
    expect(body.errors).toEqual([
      { field: '/organizationId', message: expect.stringContaining('OrgBAC is off') },
    ]);
  });

  it('answers malformed JSON with 400', async () => {
    const response = await app.request('/v1/backend-services', {
      method: 'POST',
      headers: { ...alice, 'Content-Type': 'application/json' },
      body: '{"name":',
    });
    expect(response.status).toBe(400);
    await problem(response);
  });

  it('bounds list limits and refuses a cursor it did not issue', async () => {
    expect((await app.request('/v1/backend-services?limit=101', { headers: alice })).status).toBe(400);
    const bad = await app.request('/v1/backend-services?cursor=garbage', { headers: alice });
    expect(bad.status).toBe(400);
    expect((await problem(bad)).errors?.[0]?.field).toBe('cursor');
  });

  it('refuses a malformed service ID with 400 and an unknown one with 404', async () => {
    expect((await app.request('/v1/backend-services/BS-Nope', { headers: alice })).status).toBe(400);
    const missing = await app.request('/v1/backend-services/bs-doesnotexist', { headers: alice });
    expect(missing.status).toBe(404);
    expect((await problem(missing)).type).toBe('/problems/not-found');
    expect((await app.request('/v1/no-such-route', { headers: alice })).status).toBe(404);
  });

  it('requires If-Match on PATCH (428) and refuses a stale one (412)', async () => {
    const state = await seedService(db, serviceState({ ownerId: 'alice', revision: 3 }));
    const url = `/v1/backend-services/${state.serviceId}`;
    const missing = await app.request(url, jsonRequest('PATCH', { name: 'x' }, alice));
    expect(missing.status).toBe(428);
    expect((await problem(missing)).type).toBe('/problems/precondition-required');
    const stale = await app.request(
      url,
      jsonRequest('PATCH', { name: 'x' }, { ...alice, 'If-Match': '"2"' }),
    );
    expect(stale.status).toBe(412);
    expect(await problem(stale)).toMatchObject({
      type: '/problems/precondition-failed',
      currentStatus: 'draft',
    });
    const ok = await app.request(
      url,
      jsonRequest('PATCH', { name: 'Renamed' }, { ...alice, 'If-Match': '"3"' }),
    );
    expect(ok.status).toBe(200);
  });

  it('refuses a change of authMethod.type and an unknown field in a merge-patch', async () => {
    const state = await seedService(db, serviceState({ ownerId: 'alice' }));
    const url = `/v1/backend-services/${state.serviceId}`;
    const headers = { ...alice, 'If-Match': '"1"' };
    const switched = await app.request(
      url,
      jsonRequest('PATCH', { authMethod: { type: 'jwks_uri', jwksUri: 'https://a.example/j' } }, headers),
    );
    expect((await problem(switched)).errors).toEqual([
      { field: '/authMethod/type', message: expect.any(String) },
    ]);
    const unknown = await app.request(
      url,
      jsonRequest('PATCH', { scopes: { version: 'v2', bogus: true } }, headers),
    );
    expect(unknown.status).toBe(400);
    expect((await problem(unknown)).errors?.map((e) => e.field)).toContain('/scopes/bogus');
  });

  it('answers a refused transition with 409 and currentStatus', async () => {
    const state = await seedService(
      db,
      serviceState({ ownerId: 'alice', status: 'active', productionProvisioned: true }),
    );
    const response = await app.request(`/v1/backend-services/${state.serviceId}/submit`, {
      method: 'POST',
      headers: alice,
    });
    expect(response.status).toBe(409);
    expect(await problem(response)).toMatchObject({
      type: '/problems/invalid-transition',
      currentStatus: 'active',
    });
  });

  it('after deactivation answers every message from the read model: 409, currentStatus rejected', async () => {
    const state = await seedService(
      db,
      serviceState({
        ownerId: 'alice',
        status: 'rejected',
        rejection: { kind: 'deactivated', reason: 'gone', by: 'ada', at: new Date().toISOString() },
      }),
    );
    const calls: string[] = [];
    const tracking: BackendServiceCommands = {
      start: async () => 'started',
      update: async (id) => {
        calls.push(id);
        throw new Error('the workflow has completed: the API must not call it');
      },
    };
    const isolated = buildApp(db, temporal, ids, { config, secrets, commands: tracking });
    for (const [path, headers, body] of [
      [`/v1/backend-services/${state.serviceId}/submit`, alice, undefined],
      [`/v1/backend-services/${state.serviceId}/rotate-secret`, alice, undefined],
      [`/v1/admin/backend-services/${state.serviceId}/deactivate`, admin, { reason: 'again' }],
    ] as const) {
      const response = await isolated.request(
        path,
        body ? jsonRequest('POST', body, headers) : { method: 'POST', headers },
      );
      expect(response.status, path).toBe(409);
      expect(await problem(response)).toMatchObject({ currentStatus: 'rejected' });
    }
    expect(calls).toEqual([]);
  });

  it('maps CredentialsInvalid to 409 with the JWKS report', async () => {
    const state = await seedService(db, serviceState({ ownerId: 'alice' }));
    const report = {
      valid: false,
      checkedAt: new Date().toISOString(),
      summary: 'The JWKS is not acceptable: no keys.',
    };
    const failing: BackendServiceCommands = {
      start: async () => 'started',
      update: async () => {
        throw new UpdateRefused('CredentialsInvalid', 'the JWKS does not pass', {
          currentStatus: 'draft',
          report,
        });
      },
    };
    const isolated = buildApp(db, temporal, ids, { config, secrets, commands: failing });
    const response = await isolated.request(`/v1/backend-services/${state.serviceId}/submit`, {
      method: 'POST',
      headers: alice,
    });
    expect(response.status).toBe(409);
    expect(await problem(response)).toMatchObject({
      type: '/problems/credentials-invalid',
      currentStatus: 'draft',
      report,
    });
  });

  it('maps ProvisioningFailed to 502 with status and kind only', async () => {
    const state = await seedService(db, serviceState({ ownerId: 'alice' }));
    const failing: BackendServiceCommands = {
      start: async () => 'started',
      update: async () => {
        throw new UpdateRefused('ProvisioningFailed', 'x', {
          environment: 'sandbox',
          operation: 'provisionClientSecret',
          status: 422,
          kind: 'AidboxPermanentError',
          at: 'now',
        });
      },
    };
    const isolated = buildApp(db, temporal, ids, { config, secrets, commands: failing });
    const response = await isolated.request(`/v1/backend-services/${state.serviceId}/rotate-secret`, {
      method: 'POST',
      headers: alice,
    });
    expect(response.status).toBe(502);
    expect(await problem(response)).toMatchObject({
      type: '/problems/provisioning-failed',
      error: { status: 422, kind: 'AidboxPermanentError' },
    });
  });

  it('answers 503 with Retry-After when no worker polls the task queue (deadline on the update)', async () => {
    const state = await seedService(db, serviceState({ ownerId: 'alice' }));
    const short = testConfig({ TEMPORAL_CALL_TIMEOUT_MS: '800' });
    // A running workflow on a task queue nobody polls: the update can never be handled.
    await temporal.workflow.start('backendService', {
      workflowId: `backend-service/${state.serviceId}`,
      taskQueue: short.TEMPORAL_TASK_QUEUE,
      args: [
        {
          serviceId: state.serviceId,
          ownerId: 'alice',
          registration: state.registration,
          createdAt: state.createdAt,
        },
      ],
    });
    const isolated = buildApp(db, temporal, ids, { config: short, secrets });
    const started = Date.now();
    const response = await isolated.request(`/v1/backend-services/${state.serviceId}/submit`, {
      method: 'POST',
      headers: alice,
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect((await problem(response)).type).toBe('/problems/service-unavailable');
    expect(Date.now() - started).toBeLessThan(5_000);
    await temporal.workflow.getHandle(`backend-service/${state.serviceId}`).terminate('test done');
  });

  it('answers 503 with Retry-After when Temporal is unreachable', async () => {
    const state = await seedService(db, serviceState({ ownerId: 'alice' }));
    const deadConfig = testConfig({
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_CALL_TIMEOUT_MS: '800',
    });
    const deadTemporal = createTemporalClient(deadConfig);
    const isolated = buildApp(db, deadTemporal, ids, {
      config: deadConfig,
      secrets,
      commands: createTemporalCommands(deadTemporal, {
        taskQueue: 'nobody',
        callTimeoutMs: 800,
        signer: testCommandSigner(),
      }),
    });
    const submit = await isolated.request(`/v1/backend-services/${state.serviceId}/submit`, {
      method: 'POST',
      headers: alice,
    });
    expect(submit.status).toBe(503);
    expect(submit.headers.get('retry-after')).toBeTruthy();
    const created = await isolated.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), alice),
    );
    expect(created.status).toBe(503);
    await deadTemporal.connection.close().catch(() => undefined);
  });

  it('answers 503 with Retry-After when PostgreSQL is unreachable', async () => {
    const deadDb = createDb(`postgres://postgres@127.0.0.1:${await freePort()}/nothing`, {
      connectionTimeoutMs: 500,
    });
    const isolated = buildApp(deadDb, temporal, ids, { config, secrets: testSecretStore(deadDb) });
    for (const [path, init] of [
      ['/v1/backend-services', { headers: alice }],
      ['/v1/backend-services/bs-abc', { headers: alice }],
      ['/v1/admin/review-queue', { headers: admin }],
      [
        '/v1/backend-services',
        jsonRequest('POST', validRegistration(), { ...alice, 'Idempotency-Key': 'k1' }),
      ],
    ] as const) {
      const response = await isolated.request(path, init);
      expect(response.status, path).toBe(503);
      expect(response.headers.get('retry-after')).toBeTruthy();
    }
    await deadDb.destroy();
  });
});
