import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createJwksFetcher } from '../credentials/jwks-fetch.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { localhostOnlyResolver } from '../platform/network.js';
import { startKeyServer, type TestKeyServer } from '../test-support/key-server.js';
import {
  createIdentities,
  jsonRequest,
  systemApp,
  validRegistration,
  type Identities,
} from '../test-support/api-harness.js';
import {
  clientRefusal,
  fhirGet,
  registration,
  startService,
  tokenWithAssertion,
  tokenWithSecret,
  waitForProjection,
} from '../test-support/services.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import { registerCanary, whereFound } from '../test-support/secret-registry.js';
import { workerLogLines } from '../test-support/temporal.js';
import { workflowIdOf } from '../workflows/backend-service/messages.js';
import type { createApp } from './app.js';
import type { PresentedService } from './services/present.js';

/** A replaced secret or an inactive Client: the token endpoint's 400 invalid_client. */
const REFUSED_CLIENT = { status: 400, error: 'invalid_client' };

/**
 * The whole life of a service through HTTP only, on the real workflow, Temporal dev server,
 * PostgreSQL and the two Aidbox stand-ins, and real use of what was granted.
 */
type Service = PresentedService & { clientSecret?: string | null; clientSecretShown?: boolean };

describe('the HTTP API end to end', () => {
  let system: TestSystem;
  let keys: TestKeyServer;
  let ids: Identities;
  let app: ReturnType<typeof createApp>;
  const logLines: string[] = [];
  let apiLog: Logger;
  let headers: Record<'alice' | 'ada' | 'amos', Record<string, string>>;

  beforeAll(async () => {
    system = await startTestSystem();
    keys = await startKeyServer();
    ids = await createIdentities();
    const capture = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    apiLog = createLogger('api', 'debug', capture);
    app = systemApp(system, ids, {
      config: { LOG_LEVEL: 'debug' },
      deps: {
        log: apiLog,
        jwksFetcher: createJwksFetcher({ mode: 'development', resolver: localhostOnlyResolver }),
      },
    });
    headers = {
      alice: await ids.bearer('alice', ['developer']),
      ada: await ids.bearer('ada', ['admin']),
      amos: await ids.bearer('amos', ['developer', 'admin']),
    };
  });
  afterAll(async () => {
    await keys?.close();
    await system?.stop();
  });

  async function call(
    method: string,
    path: string,
    who: keyof typeof headers,
    body?: unknown,
    extra: Record<string, string> = {},
  ) {
    const init =
      body === undefined
        ? { method, headers: { ...headers[who], ...extra } }
        : jsonRequest(method, body, { ...headers[who], ...extra });
    const response = await app.request(path, init);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : null) as Service & Record<string, unknown>,
    };
  }

  async function until(id: string, predicate: (s: Service) => boolean, timeoutMs = 20_000): Promise<Service> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await call('GET', `/v1/backend-services/${id}`, 'alice');
      if (predicate(body)) return body;
      if (Date.now() > deadline)
        throw new Error(
          `service ${id} never reached the expected state: ${JSON.stringify(body).slice(0, 400)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const base = (tokenUrl: string) => tokenUrl.replace(/\/auth\/token$/, '');
  async function accessToken(response: Response): Promise<string> {
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  const secrets: string[] = [];

  it('lists the production Organizations (OrgBAC on)', async () => {
    const { status, body } = await call('GET', '/v1/organizations?limit=10', 'alice');
    expect(status).toBe(200);
    expect((body.items as unknown as Array<{ id: string }>).map((o) => o.id)).toEqual(
      expect.arrayContaining(['org-payer-a', 'org-payer-b']),
    );
  });

  it('client secret: register, sandbox use, edit, submit, approve, production use in its organization, rotate twice, deactivate', async () => {
    const key = randomUUID();
    const created = await call(
      'POST',
      '/v1/backend-services',
      'alice',
      validRegistration({ organizationId: 'org-payer-a' }),
      { 'Idempotency-Key': key },
    );
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const id = created.body.id;
    const s1 = created.body.clientSecret!;
    expect(s1).toEqual(expect.any(String));
    secrets.push(s1);
    expect(created.body).toMatchObject({
      status: 'draft',
      revision: 1,
      organizationId: 'org-payer-a',
      scopes: { strings: ['system/Patient.rs'] },
    });
    expect(created.body.credentials.secret).toMatchObject({ version: 1 });

    // A retry of the create shows the same service, and the secret no more.
    const replay = await call(
      'POST',
      '/v1/backend-services',
      'alice',
      validRegistration({ organizationId: 'org-payer-a' }),
      { 'Idempotency-Key': key },
    );
    expect(replay.body).toMatchObject({ id, clientSecret: null, clientSecretShown: true });

    // The sandbox works at once, for what the scopes grant only.
    const draft = await until(id, (s) => s.environments.sandbox !== null);
    const sandbox = draft.environments.sandbox!;
    expect(draft.environments.production).toBeNull();
    const sandboxAccess = await accessToken(
      await tokenWithSecret(base(sandbox.tokenUrl), id, s1, 'system/Patient.rs'),
    );
    expect((await fhirGet(sandbox.fhirBaseUrl, '/Patient', sandboxAccess)).status).toBe(200);
    expect((await fhirGet(sandbox.fhirBaseUrl, '/Observation', sandboxAccess)).status).toBe(403);

    const edited = await call(
      'PATCH',
      `/v1/backend-services/${id}`,
      'alice',
      { name: 'Acme nightly export' },
      { 'If-Match': '"1"' },
    );
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ name: 'Acme nightly export', revision: 2 });
    expect(edited.headers.get('etag')).toBe('"2"');

    const submitted = await call('POST', `/v1/backend-services/${id}/submit`, 'alice', undefined, {
      'Idempotency-Key': randomUUID(),
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body.status).toBe('under_review');

    // Other test files share the database: page through the queue until this service shows up.
    let queued: { id: string; waitingSeconds: number } | undefined;
    let cursor: string | null = null;
    do {
      const page = await call(
        'GET',
        `/v1/admin/review-queue?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        'ada',
      );
      queued = (page.body.items as unknown as Array<{ id: string; waitingSeconds: number }>).find(
        (s) => s.id === id,
      );
      cursor = page.body.nextCursor as string | null;
    } while (!queued && cursor);
    expect(queued?.waitingSeconds).toBeGreaterThanOrEqual(0);

    const policies = await call('GET', `/v1/admin/backend-services/${id}/production-policies`, 'ada');
    expect(policies.status).toBe(200);
    expect(policies.body).toMatchObject({ revision: 2, policyHash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const stale = await call('POST', `/v1/admin/backend-services/${id}/approve`, 'ada', {
      revision: 1,
      policyHash: policies.body.policyHash,
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ type: '/problems/stale-review', currentStatus: 'under_review' });

    const approved = await call(
      'POST',
      `/v1/admin/backend-services/${id}/approve`,
      'ada',
      { revision: 2, policyHash: policies.body.policyHash },
      { 'Idempotency-Key': randomUUID() },
    );
    expect(approved.status).toBe(202);
    expect(approved.body.status).toBe('under_review');
    expect(approved.body.approval).toMatchObject({ state: 'provisioning', by: 'ada' });

    const active = await until(id, (s) => s.status === 'active');
    const production = active.environments.production!;
    expect(production.fhirBaseUrl).toBe(`${system.standins.production.url}/Organization/org-payer-a/fhir`);
    expect(production.tokenUrl).toBe(`${system.standins.production.url}/auth/token`);
    const productionAccess = await accessToken(
      await tokenWithSecret(base(production.tokenUrl), id, s1, 'system/Patient.rs'),
    );
    expect((await fhirGet(production.fhirBaseUrl, '/Patient', productionAccess)).status).toBe(200);
    expect(
      (
        await fhirGet(
          system.standins.production.url,
          '/Organization/org-payer-b/fhir/Patient',
          productionAccess,
        )
      ).status,
    ).toBe(403);

    // Two rotations: each new secret shown once, the previous one cut off at once.
    let previous = s1;
    for (const expectedVersion of [2, 3]) {
      const rotateKey = randomUUID();
      const rotated = await call('POST', `/v1/backend-services/${id}/rotate-secret`, 'alice', undefined, {
        'Idempotency-Key': rotateKey,
      });
      expect(rotated.status).toBe(200);
      expect(rotated.headers.get('cache-control')).toBe('no-store');
      expect(rotated.body.credentials.secret).toMatchObject({ version: expectedVersion });
      const next = rotated.body.clientSecret!;
      expect(next).toEqual(expect.any(String));
      expect(next).not.toBe(previous);
      secrets.push(next);
      const again = await call('POST', `/v1/backend-services/${id}/rotate-secret`, 'alice', undefined, {
        'Idempotency-Key': rotateKey,
      });
      expect(again.body).toMatchObject({
        clientSecret: null,
        clientSecretShown: true,
        credentials: { secret: { version: expectedVersion } },
      });
      expect(
        await clientRefusal(
          await tokenWithSecret(base(production.tokenUrl), id, previous, 'system/Patient.rs'),
        ),
      ).toEqual(REFUSED_CLIENT);
      expect((await tokenWithSecret(base(production.tokenUrl), id, next, 'system/Patient.rs')).status).toBe(
        200,
      );
      previous = next;
    }
    const lastAccess = await accessToken(
      await tokenWithSecret(base(production.tokenUrl), id, previous, 'system/Patient.rs'),
    );

    const deactivated = await call('POST', `/v1/admin/backend-services/${id}/deactivate`, 'ada', {
      reason: 'Contract ended',
    });
    expect(deactivated.status).toBe(200);
    expect(deactivated.body).toMatchObject({
      status: 'rejected',
      rejection: { kind: 'deactivated', reason: 'Contract ended', by: 'ada' },
    });
    await system.client.workflow.getHandle(workflowIdOf(id)).result();

    expect(
      await clientRefusal(
        await tokenWithSecret(base(production.tokenUrl), id, previous, 'system/Patient.rs'),
      ),
    ).toEqual(REFUSED_CLIENT);
    expect((await fhirGet(production.fhirBaseUrl, '/Patient', lastAccess)).status).toBe(401);
    for (const [path, who, body] of [
      [`/v1/backend-services/${id}/submit`, 'alice', undefined],
      [`/v1/backend-services/${id}/rotate-secret`, 'alice', undefined],
      [`/v1/admin/backend-services/${id}/deactivate`, 'ada', { reason: 'again' }],
    ] as const) {
      const refused = await call('POST', path, who, body);
      expect(refused.status, path).toBe(409);
      expect(refused.body.currentStatus).toBe('rejected');
    }
    const edit = await call(
      'PATCH',
      `/v1/backend-services/${id}`,
      'alice',
      { name: 'x' },
      { 'If-Match': '"2"' },
    );
    expect(edit.status).toBe(409);

    const history = await call('GET', `/v1/backend-services/${id}/history`, 'alice');
    expect((history.body.items as unknown as Array<{ action: string }>).map((h) => h.action)).toEqual([
      'create',
      'edit',
      'submit',
      'approve',
      'approval-completed',
      'rotate-secret',
      'rotate-secret',
      'deactivate',
    ]);
  });

  it('JWKS: register, checks, assertion check, sandbox and production use, refusal with the report, deactivate', async () => {
    const created = await call(
      'POST',
      '/v1/backend-services',
      'alice',
      validRegistration({
        organizationId: 'org-payer-a',
        authMethod: { type: 'jwks_uri', jwksUri: keys.jwksUri },
      }),
    );
    expect(created.status).toBe(201);
    expect(created.body.clientSecret).toBeUndefined();
    const id = created.body.id;
    const draft = await until(id, (s) => s.credentials.state === 'valid' && s.environments.sandbox !== null);
    const sandbox = draft.environments.sandbox!;

    const report = await call('GET', `/v1/backend-services/${id}/jwks-report`, 'alice');
    expect(report.body).toMatchObject({ credentialsState: 'valid', report: { valid: true } });

    const good = await call('POST', `/v1/backend-services/${id}/assertion-check`, 'alice', {
      environment: 'sandbox',
      clientAssertion: await keys.assertion(id, sandbox.tokenUrl),
    });
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ accepted: true, tokenUrl: sandbox.tokenUrl });
    const wrongAud = await call('POST', `/v1/backend-services/${id}/assertion-check`, 'alice', {
      environment: 'production',
      clientAssertion: await keys.assertion(id, sandbox.tokenUrl),
    });
    expect(wrongAud.body.accepted).toBe(false);
    expect(
      (wrongAud.body.checks as unknown as Array<{ id: string; status: string }>).find((c) => c.id === 'aud')
        ?.status,
    ).toBe('failed');

    const sandboxAccess = await accessToken(
      await tokenWithAssertion(
        base(sandbox.tokenUrl),
        await keys.assertion(id, sandbox.tokenUrl),
        'system/Patient.rs',
      ),
    );
    expect((await fhirGet(sandbox.fhirBaseUrl, '/Patient', sandboxAccess)).status).toBe(200);
    expect((await fhirGet(sandbox.fhirBaseUrl, '/Encounter', sandboxAccess)).status).toBe(403);

    // Submit while the JWKS fails: 409 with the report; then fixed, accepted.
    keys.publish({ keys: [] });
    const refused = await call('POST', `/v1/backend-services/${id}/submit`, 'alice');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      type: '/problems/credentials-invalid',
      currentStatus: 'draft',
      report: { valid: false },
    });
    keys.restore();
    const rechecked = await call('POST', `/v1/backend-services/${id}/recheck-credentials`, 'alice');
    expect(rechecked.status).toBe(200);
    expect(rechecked.body.credentials.state).toBe('valid');
    expect((await call('POST', `/v1/backend-services/${id}/submit`, 'alice')).status).toBe(200);

    const policies = await call('GET', `/v1/admin/backend-services/${id}/production-policies`, 'ada');
    const approved = await call('POST', `/v1/admin/backend-services/${id}/approve`, 'ada', {
      revision: 1,
      policyHash: policies.body.policyHash,
    });
    expect(approved.status).toBe(202);
    const production = (await until(id, (s) => s.status === 'active')).environments.production!;
    const productionAccess = await accessToken(
      await tokenWithAssertion(
        base(production.tokenUrl),
        await keys.assertion(id, production.tokenUrl),
        'system/Patient.rs',
      ),
    );
    expect((await fhirGet(production.fhirBaseUrl, '/Patient', productionAccess)).status).toBe(200);
    expect(
      (
        await fhirGet(
          system.standins.production.url,
          '/Organization/org-payer-b/fhir/Patient',
          productionAccess,
        )
      ).status,
    ).toBe(403);

    expect(
      (await call('POST', `/v1/admin/backend-services/${id}/deactivate`, 'ada', { reason: 'Done' })).status,
    ).toBe(200);
    await system.client.workflow.getHandle(workflowIdOf(id)).result();
    expect(
      await clientRefusal(
        await tokenWithAssertion(
          base(production.tokenUrl),
          await keys.assertion(id, production.tokenUrl),
          'system/Patient.rs',
        ),
      ),
    ).toEqual(REFUSED_CLIENT);
    expect((await fhirGet(production.fhirBaseUrl, '/Patient', productionAccess)).status).toBe(401);
  });

  it('rotation of a draft: the new secret is shown once and works in the sandbox; a rotation the sandbox refuses answers 502 and changes nothing', async () => {
    const created = await call(
      'POST',
      '/v1/backend-services',
      'alice',
      validRegistration({ organizationId: 'org-payer-a' }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const s1 = created.body.clientSecret!;
    secrets.push(s1);
    const sandbox = (await until(id, (s) => s.environments.sandbox !== null)).environments.sandbox!;
    const token = (secret: string) =>
      tokenWithSecret(base(sandbox.tokenUrl), id, secret, 'system/Patient.rs');

    const rotated = await call('POST', `/v1/backend-services/${id}/rotate-secret`, 'alice');
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ status: 'draft', credentials: { secret: { version: 2 } } });
    const s2 = rotated.body.clientSecret!;
    secrets.push(s2);
    expect((await token(s1)).status).toBe(400);
    expect((await token(s2)).status).toBe(200);

    // The sandbox refuses the secret patch for good (403 is permanent): 502 naming the box, status and kind.
    system.standins.sandbox.failNext({
      kind: 'error-before',
      status: 403,
      method: 'PATCH',
      path: new RegExp(`/Client/${id}$`),
      times: 10,
    });
    const refused = await call('POST', `/v1/backend-services/${id}/rotate-secret`, 'alice');
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({
      type: '/problems/provisioning-failed',
      error: { environment: 'sandbox', status: 403 },
    });
    expect(refused.body.clientSecret).toBeUndefined();
    // Nothing applied: still version 2, and the secret shown last still works.
    const after = await call('GET', `/v1/backend-services/${id}`, 'alice');
    expect(after.body.credentials.secret).toMatchObject({ version: 2 });
    expect((await token(s2)).status).toBe(200);
    const history = await call('GET', `/v1/backend-services/${id}/history`, 'alice');
    expect((history.body.items as unknown as Array<{ action: string }>).map((h) => h.action)).toEqual([
      'create',
      'rotate-secret',
    ]);
  });

  it('nobody approves a service they own, even through a real workflow', async () => {
    const created = await call(
      'POST',
      '/v1/backend-services',
      'amos',
      validRegistration({ organizationId: 'org-payer-b' }),
    );
    const id = created.body.id;
    await until(id, () => true);
    const submitted = await app.request(`/v1/backend-services/${id}/submit`, {
      method: 'POST',
      headers: headers.amos,
    });
    expect(submitted.status).toBe(200);
    const policies = await call('GET', `/v1/admin/backend-services/${id}/production-policies`, 'amos');
    const self = await call('POST', `/v1/admin/backend-services/${id}/approve`, 'amos', {
      revision: 1,
      policyHash: policies.body.policyHash,
    });
    expect(self.status).toBe(403);
    expect(self.body.type).toBe('/problems/self-approval');
    const rejected = await call('POST', `/v1/admin/backend-services/${id}/reject`, 'ada', {
      reason: 'Scopes too broad',
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejection: { kind: 'declined' } });
  });

  it('a create that hit the deadline (no worker) continues the same service on retry, after an API restart, and shows its secret once', async () => {
    // No worker polls the queue (restartWorker below closes its connection).
    system.worker.worker.shutdown();
    while (system.worker.worker.getState() !== 'STOPPED') await new Promise((r) => setTimeout(r, 50));
    const impatient = systemApp(system, ids, { config: { TEMPORAL_CALL_TIMEOUT_MS: '700' } });
    const key = randomUUID();
    const request = () =>
      impatient.request(
        '/v1/backend-services',
        jsonRequest('POST', validRegistration({ organizationId: 'org-payer-a' }), {
          ...headers.alice,
          'Idempotency-Key': key,
        }),
      );
    const first = await request();
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBeTruthy();
    const reserved = await system.db
      .selectFrom('idempotency_records')
      .select('service_id')
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    expect(reserved.service_id).toMatch(/^bs-[a-z0-9]+$/);
    // No worker has run it (its history is the start and a workflow task waiting), yet an operator
    // finds it by owner, Organization and status: the API set its search attributes at start.
    const workflowId = workflowIdOf(reserved.service_id!);
    const waiting = await system.client.workflow.getHandle(workflowId).fetchHistory();
    expect(waiting.events?.length).toBe(2);
    const query = `BackendServiceOwner = 'alice' AND BackendServiceStatus = 'draft' AND BackendServiceOrganization = 'org-payer-a' AND BackendServiceAuthMethod = 'client_secret'`;
    await expect
      .poll(async () => {
        const found: string[] = [];
        for await (const run of system.client.workflow.list({ query })) found.push(run.workflowId);
        return found;
      })
      .toContain(workflowId);

    await system.restartWorker();
    // The retry goes to another API instance (as after a restart): the record is in PostgreSQL.
    const retry = await app.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration({ organizationId: 'org-payer-a' }), {
        ...headers.alice,
        'Idempotency-Key': key,
      }),
    );
    expect(retry.status).toBe(201);
    const body = (await retry.json()) as Service;
    expect(body.id).toBe(reserved.service_id);
    expect(body.clientSecret).toEqual(expect.any(String));
    secrets.push(body.clientSecret!);
    const again = (await (await request()).json()) as Service;
    expect(again).toMatchObject({ id: body.id, clientSecret: null, clientSecretShown: true });
    // One workflow for the service, however many attempts.
    const runs = [];
    for await (const run of system.client.workflow.list({ query: `WorkflowId = '${workflowIdOf(body.id)}'` }))
      runs.push(run);
    expect(runs).toHaveLength(1);
  });

  it('no plaintext secret in histories, the dev server database file, any table, or the logs of API, worker and stand-ins', async () => {
    expect(secrets.length).toBe(6);
    // A canary goes through the same channels a leaked secret would: a service's workflow input
    // (history and Temporal's database file), its read-model row, the worker's log (the workflow ID
    // names the service) and the API log. Finding it everywhere proves each search can find a secret
    // where one is. Lowercase letters and digits only, so it can be part of a service ID.
    const canary = `canary${randomBytes(10).toString('hex')}`;
    const { serviceId: canaryService } = await startService(
      system,
      { ...registration({ type: 'client_secret' }), description: `A note carrying ${canary}` },
      { serviceId: `bs-${canary}` },
    );
    await waitForProjection(system.db, canaryService, (s) => s.status === 'draft');
    apiLog.info({ note: canary }, 'canary');
    // The stand-ins' request log: a secret in a URL would land there.
    expect((await fetch(`${system.standins.sandbox.url}/fhir/Patient/${canary}`)).status).toBe(401);
    // The run's final check (global-setup.ts teardown) must find it too, in Temporal's file and a table.
    registerCanary(canary, 'api/lifecycle.test.ts');

    const haystacks: Record<string, string> = {
      apiLogs: logLines.join(''),
      workerLogs: workerLogLines.join('\n'),
      standinLogs: system.standinLogLines.join('\n'),
    };
    // Payloads are bytes: decode them so a secret inside a JSON payload reads as text.
    const bytesAsText = (_key: string, value: unknown) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value;
    for await (const execution of system.client.workflow.list()) {
      const history = await system.client.workflow
        .getHandle(execution.workflowId, execution.runId)
        .fetchHistory();
      haystacks[`history ${execution.workflowId}/${execution.runId}`] = JSON.stringify(history, bytesAsText);
    }
    const dbFile = inject('temporalDbFile');
    for (const file of [dbFile, `${dbFile}-wal`]) {
      if (existsSync(file))
        haystacks[`temporal database ${path.basename(file)}`] = readFileSync(file).toString('latin1');
    }
    const tables = await sql<{
      table_name: string;
    }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(system.db);
    for (const { table_name } of tables.rows) {
      const rows = await sql<{
        row: string;
      }>`select row_to_json(t)::text as row from ${sql.table(table_name)} t`.execute(system.db);
      haystacks[`table ${table_name}`] = rows.rows.map((r) => r.row).join('\n');
    }
    const canaryHistory = `history ${workflowIdOf(canaryService)}/`;
    const find = (needle: string) =>
      whereFound(haystacks, needle).map((where) =>
        where.startsWith(canaryHistory) ? 'history of the canary service' : where,
      );

    expect(find(canary).sort()).toEqual(
      expect.arrayContaining([
        'apiLogs',
        'workerLogs',
        'standinLogs',
        'history of the canary service',
        'table backend_services',
        expect.stringMatching(/^temporal database/),
      ]),
    );
    for (const secret of secrets) expect(find(secret)).toEqual([]);
  });
});
