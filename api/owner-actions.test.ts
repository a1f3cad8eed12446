import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildApp,
  createIdentities,
  jsonRequest,
  routeTestResources,
  systemApp,
  testConfig,
  testSecretStore,
  validRegistration,
  type Identities,
} from '../test-support/api-harness.js';
import { rulesOnlyCommands } from '../test-support/rules-only-commands.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import type { createApp } from './app.js';
import type { PresentedService } from './services/present.js';

type Service = PresentedService & { clientSecret?: string | null };

/** The owner's undo over HTTP on the real workflow: withdraw, delete (and who still sees it), revoke. */
describe("the owner's controls over HTTP", () => {
  let system: TestSystem;
  let ids: Identities;
  let app: ReturnType<typeof createApp>;
  let alice: Record<string, string>;
  let ada: Record<string, string>;

  beforeAll(async () => {
    system = await startTestSystem();
    ids = await createIdentities();
    app = systemApp(system, ids);
    alice = await ids.bearer('alice', ['developer']);
    ada = await ids.bearer('ada', ['admin']);
  });
  afterAll(() => system?.stop());

  const create = async (): Promise<Service> => {
    const answer = await app.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration({ organizationId: 'org-payer-a' }), alice),
    );
    expect(answer.status).toBe(201);
    return (await answer.json()) as Service;
  };
  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    app.request(path, body === undefined ? { method, headers } : jsonRequest(method, body, headers));

  it('withdraw, then resubmit; a draft cannot be withdrawn', async () => {
    const service = await create();
    const path = `/v1/backend-services/${service.id}`;
    expect((await call('POST', `${path}/submit`, alice)).status).toBe(200);
    const withdrawn = await call('POST', `${path}/withdraw`, alice);
    expect(withdrawn.status).toBe(200);
    expect(((await withdrawn.json()) as Service).status).toBe('draft');
    const again = await call('POST', `${path}/withdraw`, alice);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { currentStatus: string }).currentStatus).toBe('draft');
    expect((await call('POST', `${path}/submit`, alice)).status).toBe(200);
  });

  it('delete: the owner gets 404 and an empty list, administrators still see it with its history', async () => {
    const service = await create();
    const path = `/v1/backend-services/${service.id}`;
    const deleted = await call('DELETE', path, alice);
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as Service).deletedAt).toEqual(expect.any(String));
    expect((await call('GET', path, alice)).status).toBe(404);
    const mine = (await (await call('GET', '/v1/backend-services?limit=100', alice)).json()) as {
      items: Service[];
    };
    expect(mine.items.map((s) => s.id)).not.toContain(service.id);
    const adminView = await call('GET', `/v1/admin/backend-services/${service.id}`, ada);
    expect(adminView.status).toBe(200);
    const detail = (await adminView.json()) as Service & { history: Array<{ action: string }> };
    expect(detail.deletedAt).toEqual(expect.any(String));
    expect(detail.history.map((h) => h.action)).toEqual(['create', 'delete']);
    const listed = async (query: string) =>
      (
        (await (await call('GET', `/v1/admin/backend-services?limit=100${query}`, ada)).json()) as {
          items: Service[];
        }
      ).items.map((s) => s.id);
    expect(await listed('')).not.toContain(service.id);
    expect(await listed('&includeDeleted=true')).toContain(service.id);
  });

  it('revoke over HTTP ends a live service for good; delete of a live service is 409', async () => {
    const service = await create();
    const path = `/v1/backend-services/${service.id}`;
    expect((await call('POST', `${path}/submit`, alice)).status).toBe(200);
    const policies = (await (
      await call('GET', `/v1/admin/backend-services/${service.id}/production-policies`, ada)
    ).json()) as {
      revision: number;
      policyHash: string;
    };
    expect(
      (
        await call('POST', `/v1/admin/backend-services/${service.id}/approve`, ada, {
          revision: policies.revision,
          policyHash: policies.policyHash,
        })
      ).status,
    ).toBe(202);
    for (let i = 0; i < 100; i += 1) {
      const now = (await (await call('GET', path, alice)).json()) as Service;
      if (now.status === 'active') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await call('DELETE', path, alice)).status).toBe(409);
    const noReason = await call('POST', `${path}/revoke`, alice, { reason: '' });
    expect(noReason.status).toBe(400);
    const revoked = await call('POST', `${path}/revoke`, alice, { reason: 'leaked' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as Service).rejection).toMatchObject({ kind: 'revoked-by-owner' });
    expect((await call('POST', `${path}/rotate-secret`, alice)).status).toBe(409);
  });

  it('a staged rotation needs a future activateAt, named when it is not', async () => {
    const service = await create();
    const path = `/v1/backend-services/${service.id}/rotate-secret`;
    for (const activateAt of ['2020-01-01T00:00:00Z', 'tomorrow', '2999-01-01T00:00:00Z']) {
      const answer = await call('POST', path, alice, { activateAt });
      expect(answer.status, activateAt).toBe(400);
      const problem = (await answer.json()) as { errors: Array<{ field: string }> };
      expect(problem.errors.map((e) => e.field)).toEqual(['/activateAt']);
    }
    const staged = await call('POST', path, alice, {
      activateAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(staged.status).toBe(200);
    const body = (await staged.json()) as Service;
    expect(body.clientSecret).toEqual(expect.any(String));
    expect(body.credentials.stagedSecret).toMatchObject({ version: 2 });
    expect(body.credentials.secret).toMatchObject({ version: 1 });
  });
});

describe('creation limits (the API alone)', () => {
  const { config, db, temporal } = routeTestResources(
    testConfig({ MAX_SERVICES_PER_OWNER: '50', CREATE_RATE_PER_MINUTE: '10' }),
  );

  it('the 51st live service is refused with 429 saying why; a deleted one frees its place', async () => {
    const ids = await createIdentities();
    const secrets = testSecretStore(db);
    const app = buildApp(db, temporal, ids, {
      config: { ...config, CREATE_RATE_PER_MINUTE: 100_000 },
      secrets,
      commands: rulesOnlyCommands(db, secrets),
    });
    const owner = await ids.bearer(`quota-${Date.now()}`, ['developer']);
    const created: string[] = [];
    for (let i = 0; i < 50; i += 1) {
      const answer = await app.request(
        '/v1/backend-services',
        jsonRequest('POST', validRegistration(), owner),
      );
      expect(answer.status).toBe(201);
      created.push(((await answer.json()) as Service).id);
    }
    const refused = await app.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), owner),
    );
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { detail: string }).detail).toContain('50');
    await db
      .updateTable('backend_services')
      .set({ deleted_at: new Date().toISOString() })
      .where('id', '=', created[0]!)
      .execute();
    const freed = await app.request('/v1/backend-services', jsonRequest('POST', validRegistration(), owner));
    expect(freed.status).toBe(201);
  });

  it('a burst of creates is refused past 10 a minute with Retry-After; a retry with the same key is not counted as done', async () => {
    const ids = await createIdentities();
    const secrets = testSecretStore(db);
    const app = buildApp(db, temporal, ids, { config, secrets, commands: rulesOnlyCommands(db, secrets) });
    const owner = await ids.bearer(`burst-${Date.now()}`, ['developer']);
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 12; i += 1) {
      const answer = await app.request(
        '/v1/backend-services',
        jsonRequest('POST', validRegistration(), { ...owner, 'Idempotency-Key': `burst-${i}` }),
      );
      statuses.push(answer.status);
      if (answer.status === 429) refused ??= answer;
    }
    // The window is a clock minute: a burst may straddle two, so at most 20 pass, and the 11th in one window is refused.
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(10);
    expect(statuses).toContain(429);
    expect(Number(refused!.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect(((await refused!.json()) as { type: string }).type).toBe('/problems/rate-limited');
  });
});
