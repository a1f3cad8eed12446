import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../db/migrate.js';
import { testDatabaseUrl } from '../test-support/database-url.js';
import { propertySeed } from '../test-support/seed.js';
import { createDb } from '../db/database.js';
import { isProblem, startFaultApi, type FaultApi } from '../test-support/faults/api.js';
import { changedParts, digest, type Digest } from '../test-support/faults/digest.js';
import {
  invalidRequests,
  isRealField,
  validRequest,
  type Fixtures,
  type GeneratedRequest,
} from '../test-support/faults/invalid-requests.js';
import { routesOf, type RouteSpec } from '../test-support/faults/openapi-routes.js';
import { settled, waitForWorkflowState } from '../test-support/faults/lifecycles.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import { SOAK } from '../test-support/faults/worker-process.js';

/**
 * Generated invalid requests (fast-check) across every route of /openapi.json, in batches: no 5xx,
 * every error a problem+json, every 400 naming a real field, and per batch the digests of the
 * database, both stand-ins and three service workflows unchanged. A database of its own, so no
 * other test file's writes move the digest.
 */
const BATCHES = SOAK ? 50 : 10;
const PER_BATCH = 1_000;

/** What is wrong with the API's answer to an invalid request (empty = right). */
async function answerProblems(request: GeneratedRequest, response: Response): Promise<string[]> {
  const text = await response.text();
  const at = `${request.defect} → ${request.method} ${request.url.slice(0, 120)}: ${response.status}`;
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the problem check below names it
  }
  const found: string[] = [];
  if (response.status >= 500) found.push(`${at} (a 5xx)`);
  // A GET changes nothing whatever it answers; an invalid POST or PATCH must never be accepted.
  if (response.status < 400 && request.method !== 'GET')
    found.push(`${at} (an invalid request was accepted)`);
  if (response.status >= 400 && !isProblem(response.headers.get('content-type'), body, response.status))
    found.push(`${at} (not problem+json: ${text.slice(0, 120)})`);
  if (response.status === 400) {
    const errors = (body as { errors?: Array<{ field: string }> }).errors ?? [];
    if (errors.length === 0) found.push(`${at} (a 400 naming no field)`);
    for (const { field } of errors)
      if (!isRealField(field, request))
        found.push(`${at} (field ${JSON.stringify(field)} is not in the request)`);
  }
  return found;
}

describe('fault: generated invalid requests across every route', () => {
  const databaseUrl = testDatabaseUrl(`bs_fuzz_${process.pid}_${randomBytes(3).toString('hex')}`);
  let system: TestSystem;
  let api: FaultApi;
  let routes: RouteSpec[];
  let fixtures: Fixtures;
  let ids: string[];

  beforeAll(async () => {
    await ensureDatabase(databaseUrl);
    const migrator = createDb(databaseUrl, { poolSize: 1 });
    await migrateToLatest(migrator);
    await migrator.destroy();
    system = await startTestSystem({ databaseUrl });
    api = await startFaultApi(system);
    routes = routesOf((await (await api.app.request('/openapi.json')).json()) as never);

    // Three services through the API, each settled: a draft, one under review, one active.
    const create = async () => {
      const created = await api.call('POST', '/v1/backend-services', 'alice', {
        name: 'Fuzz target',
        contactEmail: 'ops@acme.example',
        authMethod: { type: 'client_secret' },
        scopes: { version: 'v2', rules: [{ resource: 'Patient', operations: ['read'] }] },
      });
      expect(created.status).toBe(201);
      return created.body as { id: string; revision: number };
    };
    const [draft, review, active] = [await create(), await create(), await create()];
    for (const s of [review, active])
      expect((await api.call('POST', `/v1/backend-services/${s.id}/submit`, 'alice')).status).toBe(200);
    const policies = async (id: string) => {
      const { body } = await api.call('GET', `/v1/admin/backend-services/${id}/production-policies`, 'ada');
      const { revision, policyHash } = body as { revision: number; policyHash: string };
      return { revision, policyHash };
    };
    const activePolicies = await policies(active.id);
    expect(
      (await api.call('POST', `/v1/admin/backend-services/${active.id}/approve`, 'ada', activePolicies))
        .status,
    ).toBe(202);
    await waitForWorkflowState(system.client, draft.id, settled('draft'));
    await waitForWorkflowState(
      system.client,
      review.id,
      (s) => s.status === 'under_review' && s.sandbox.state === 'ready',
    );
    await waitForWorkflowState(
      system.client,
      active.id,
      (s) => settled('active')(s) && s.sandbox.state === 'ready',
    );
    const reviewPolicies = await policies(review.id);
    fixtures = {
      draft,
      review: { id: review.id, ...reviewPolicies },
      active,
      bearer: {
        ...api.headers,
        impostor: { Authorization: `Bearer ${await api.ids.impostor.sign('alice', ['developer', 'admin'])}` },
      },
    };
    ids = [draft.id, review.id, active.id];
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
    await dropDatabase(databaseUrl).catch(() => undefined);
  });

  const send = (r: GeneratedRequest) =>
    api.app.request(r.url, {
      method: r.method,
      headers: r.headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
    });
  const snapshot = (): Promise<Digest> => digest(system.db, system.standins, system.client, ids);

  it('reads every route from /openapi.json', () => {
    expect(routes.length).toBeGreaterThanOrEqual(20);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/backend-services',
        'PATCH /v1/backend-services/{id}',
        'POST /v1/admin/backend-services/{id}/approve',
      ]),
    );
  });

  it(
    `${BATCHES} × ${PER_BATCH} invalid requests: no 5xx, problem+json, real field pointers, digests unchanged per batch`,
    async () => {
      const started = performance.now();
      const seen = new Map<string, number>();
      // Idle control: with no request at all the digest comes to rest (the services' last
      // background steps, e.g. provisioning bookkeeping, done) and then holds still.
      let before = await snapshot();
      for (let settledFor = 0, tries = 0; settledFor < 2; tries += 1) {
        await new Promise((r) => setTimeout(r, 500));
        const next = await snapshot();
        settledFor = changedParts(before, next).length === 0 ? settledFor + 1 : 0;
        before = next;
        expect(tries, 'the digest never came to rest without requests').toBeLessThan(60);
      }
      // Fixed in CI so a failure is reproducible; SOAK=1 draws a fresh one. Printed either way.
      const baseSeed = propertySeed('api-invalid-requests', 20_261_122);
      for (let batch = 0; batch < BATCHES; batch += 1) {
        const seed = baseSeed ^ batch;
        await fc.assert(
          fc.asyncProperty(invalidRequests(routes, fixtures), async (request) => {
            seen.set(
              `${request.route.method} ${request.route.path}`,
              (seen.get(`${request.route.method} ${request.route.path}`) ?? 0) + 1,
            );
            expect(await answerProblems(request, await send(request))).toEqual([]);
          }),
          { numRuns: PER_BATCH, seed },
        );
        const after = await snapshot();
        expect(changedParts(before, after), `batch ${batch} (seed ${seed}) changed state`).toEqual([]);
        before = after;
      }
      const unexercised = routes.map((r) => `${r.method} ${r.path}`).filter((r) => !seen.has(r));
      expect(unexercised).toEqual([]);
      console.info(
        `${BATCHES * PER_BATCH} invalid requests over ${routes.length} routes in ${Math.round(performance.now() - started)} ms`,
      );
    },
    SOAK ? 900_000 : 180_000,
  );

  it('negative control: one valid mutating request planted in a batch changes the digest', async () => {
    const patch = routes.find((r) => r.method === 'PATCH')!;
    const before = await snapshot();
    const batch = fc.sample(invalidRequests(routes, fixtures), { numRuns: 100, seed: 42 });
    batch.splice(50, 0, validRequest(patch, fixtures));
    for (const request of batch) {
      const response = await send(request);
      if (request.defect === 'none') expect(response.status).toBe(200);
      else await response.arrayBuffer();
    }
    const changed = changedParts(before, await snapshot());
    expect(changed).toEqual(
      expect.arrayContaining([
        'database.backend_services',
        'database.backend_service_history',
        `workflows.${fixtures.draft.id}`,
      ]),
    );
  });

  // Found by this fuzz: the refusal named /authMethod/type, a pointer that was not in the request.
  it('PATCH {"authMethod": 0} is refused naming /authMethod, the field the request sent', async () => {
    const patch = routes.find((r) => r.method === 'PATCH')!;
    // The draft's current revision: the planted PATCH of an earlier test may have moved it on.
    const { body: current } = await api.call('GET', `/v1/backend-services/${fixtures.draft.id}`, 'alice');
    const base = validRequest(patch, fixtures);
    const request = {
      ...base,
      headers: { ...base.headers, 'If-Match': `"${(current as { revision: number }).revision}"` },
      json: { authMethod: 0 },
      body: '{"authMethod":0}',
    };
    const response = await send(request);
    expect(response.status).toBe(400);
    const { errors } = (await response.json()) as { errors: Array<{ field: string }> };
    expect(errors.map((e) => e.field)).toEqual(['/authMethod']);
  });

  it('negative control: the answer check names a 500, a plain-text error and a 400 pointing at nothing', async () => {
    const route = routes.find((r) => r.method === 'POST' && r.path === '/v1/backend-services')!;
    const request = {
      ...validRequest(route, fixtures),
      defect: 'planted',
      json: { name: 1 },
      body: '{"name":1}',
    };
    const problem = (status: number, extra: object = {}) =>
      new Response(JSON.stringify({ type: '/problems/x', title: 't', status, detail: 'd', ...extra }), {
        status,
        headers: { 'content-type': 'application/problem+json' },
      });
    expect(
      await answerProblems(request, problem(400, { errors: [{ field: '/name', message: 'm' }] })),
    ).toEqual([]);
    expect((await answerProblems(request, problem(500))).join()).toContain('a 5xx');
    expect((await answerProblems(request, new Response('oops', { status: 404 }))).join()).toContain(
      'not problem+json',
    );
    expect(
      (await answerProblems(request, problem(400, { errors: [{ field: '/nowhere', message: 'm' }] }))).join(),
    ).toContain('"/nowhere" is not in the request');
    expect(
      (await answerProblems(request, problem(400, { errors: [{ field: 'limit', message: 'm' }] }))).join(),
    ).toContain('"limit" is not in the request');
    expect((await answerProblems(request, new Response('{}', { status: 201 }))).join()).toContain('accepted');
    expect(await answerProblems({ ...request, method: 'GET' }, new Response('{}', { status: 200 }))).toEqual(
      [],
    );
  });
});
