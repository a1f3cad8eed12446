import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createIdempotencyStore, updateIdOf } from './idempotency/store.js';
import type { BackendServiceCommands } from './services/commands.js';
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

describe('Idempotency-Key', async () => {
  const { config, db, temporal } = routeTestResources();
  const ids = await createIdentities();
  const secrets = testSecretStore(db);
  const sentUpdateIds: Array<string | undefined> = [];
  const rules = rulesOnlyCommands(db, secrets);
  const commands: BackendServiceCommands = {
    start: (input, actor) => rules.start(input, actor),
    update: (id, def, arg, updateId) => {
      sentUpdateIds.push(updateId);
      return rules.update(id, def, arg, updateId);
    },
  };
  const newApp = () => buildApp(db, temporal, ids, { config, secrets, commands });
  const app = newApp();
  const alice = await ids.bearer('alice', ['developer']);
  const withKey = (key: string) => ({ ...alice, 'Idempotency-Key': key });

  it('a retried create returns the first answer and shows the secret only the first time', async () => {
    const key = randomUUID();
    const first = await app.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), withKey(key)),
    );
    expect(first.status).toBe(201);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const firstBody = (await first.json()) as { id: string; clientSecret: string };
    expect(firstBody.clientSecret).toMatch(/^.{32,}$/);

    const retry = await app.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), withKey(key)),
    );
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('cache-control')).toBe('no-store');
    expect(retry.headers.get('location')).toBe(`/v1/backend-services/${firstBody.id}`);
    const retryBody = (await retry.json()) as {
      id: string;
      clientSecret: string | null;
      clientSecretShown: boolean;
    };
    expect(retryBody).toMatchObject({ id: firstBody.id, clientSecret: null, clientSecretShown: true });

    // The records never hold the secret.
    const dump = await sql<{
      row: string;
    }>`select row_to_json(r)::text as row from idempotency_records r`.execute(db);
    expect(dump.rows.some((r) => r.row.includes(firstBody.clientSecret))).toBe(false);
  });

  it('replays after the API process is rebuilt (the record lives in PostgreSQL)', async () => {
    const key = randomUUID();
    const first = (await (
      await app.request('/v1/backend-services', jsonRequest('POST', validRegistration(), withKey(key)))
    ).json()) as { id: string };
    const restarted = newApp();
    const retry = await restarted.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), withKey(key)),
    );
    expect(retry.status).toBe(201);
    expect(((await retry.json()) as { id: string }).id).toBe(first.id);
  });

  it('the same key with another body is 422', async () => {
    const key = randomUUID();
    expect(
      (await app.request('/v1/backend-services', jsonRequest('POST', validRegistration(), withKey(key))))
        .status,
    ).toBe(201);
    const other = await app.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration({ name: 'Other' }), withKey(key)),
    );
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ type: '/problems/idempotency-key-reused' });
  });

  it('the same body in another key order is the same request', async () => {
    const key = randomUUID();
    const body = validRegistration();
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const first = (await (
      await app.request('/v1/backend-services', jsonRequest('POST', body, withKey(key)))
    ).json()) as { id: string };
    const retry = await app.request('/v1/backend-services', jsonRequest('POST', reordered, withKey(key)));
    expect(((await retry.json()) as { id: string }).id).toBe(first.id);
  });

  it('a request still in flight is 409 idempotency-in-flight; an abandoned one is taken over', async () => {
    const key = randomUUID();
    const state = await seedService(db, serviceState({ ownerId: 'alice' }));
    const path = `/v1/backend-services/${state.serviceId}/submit`;
    const store = createIdempotencyStore(db);
    const { hashParts } = await import('./idempotency/store.js');
    const { canonicalJson } = await import('../scopes/canonical-json.js');
    await store.begin({ principal: 'alice', route: `POST ${path}`, key }, hashParts(canonicalJson(null)), {
      takeOverAfterMs: 60_000,
    });
    const busy = await app.request(path, { method: 'POST', headers: withKey(key) });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ type: '/problems/idempotency-in-flight' });

    await db
      .updateTable('idempotency_records')
      .set({ locked_at: new Date(Date.now() - 3_600_000).toISOString() })
      .where('key', '=', key)
      .execute();
    const takenOver = await app.request(path, { method: 'POST', headers: withKey(key) });
    expect(takenOver.status).toBe(200);
  });

  it('the same key on two services’ paths does not cross, and each sends its own update ID', async () => {
    const key = randomUUID();
    const a = await seedService(db, serviceState({ ownerId: 'alice' }));
    const b = await seedService(db, serviceState({ ownerId: 'alice' }));
    sentUpdateIds.length = 0;
    const ra = await app.request(`/v1/backend-services/${a.serviceId}/submit`, {
      method: 'POST',
      headers: withKey(key),
    });
    const rb = await app.request(`/v1/backend-services/${b.serviceId}/submit`, {
      method: 'POST',
      headers: withKey(key),
    });
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect(rb.headers.get('idempotent-replayed')).toBeNull();
    expect(((await ra.json()) as { id: string }).id).toBe(a.serviceId);
    expect(((await rb.json()) as { id: string }).id).toBe(b.serviceId);
    expect(sentUpdateIds).toEqual([
      updateIdOf({ principal: 'alice', route: `POST /v1/backend-services/${a.serviceId}/submit`, key }),
      updateIdOf({ principal: 'alice', route: `POST /v1/backend-services/${b.serviceId}/submit`, key }),
    ]);
    expect(new Set(sentUpdateIds).size).toBe(2);
  });

  it('the same key from another caller is another request', async () => {
    const key = randomUUID();
    const first = (await (
      await app.request('/v1/backend-services', jsonRequest('POST', validRegistration(), withKey(key)))
    ).json()) as { id: string };
    const bob = { ...(await ids.bearer('bob', ['developer'])), 'Idempotency-Key': key };
    const second = (await (
      await app.request('/v1/backend-services', jsonRequest('POST', validRegistration(), bob))
    ).json()) as { id: string; ownerId: string };
    expect(second.id).not.toBe(first.id);
    expect(second.ownerId).toBe('bob');
  });

  it('a refusal is the first answer too: the retry gets the same 409', async () => {
    const key = randomUUID();
    const state = await seedService(
      db,
      serviceState({ ownerId: 'alice', status: 'active', productionProvisioned: true }),
    );
    const path = `/v1/backend-services/${state.serviceId}/submit`;
    const first = await app.request(path, { method: 'POST', headers: withKey(key) });
    const retry = await app.request(path, { method: 'POST', headers: withKey(key) });
    expect([first.status, retry.status]).toEqual([409, 409]);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('content-type')).toBe('application/problem+json');
    const firstBody: unknown = await first.json();
    expect(firstBody).toMatchObject({ currentStatus: 'active' });
    expect(await retry.json()).toEqual(firstBody);
  });

  it('a create that hit the deadline (503) continues the same service on retry and shows its secret once', async () => {
    // The first attempt starts the workflow but its projection is late (no worker yet): 503, nothing stored.
    let workerUp = false;
    const startedIds: string[] = [];
    const slowCommands: BackendServiceCommands = {
      async start(input, actor) {
        startedIds.push(input.serviceId);
        if (!workerUp) return 'started';
        return rules.start(input, actor);
      },
      update: (id, def, arg, updateId) => rules.update(id, def, arg, updateId),
    };
    const slow = buildApp(db, temporal, ids, {
      config: testConfig({ TEMPORAL_CALL_TIMEOUT_MS: '300' }),
      secrets,
      commands: slowCommands,
    });
    const key = randomUUID();
    const first = await slow.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), withKey(key)),
    );
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBeTruthy();
    const record = await db
      .selectFrom('idempotency_records')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    expect(record).toMatchObject({
      state: 'in_flight',
      locked_at: null,
      response_status: null,
      service_id: startedIds[0],
    });

    workerUp = true;
    const retry = await slow.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), withKey(key)),
    );
    expect(retry.status).toBe(201);
    const body = (await retry.json()) as { id: string; clientSecret: string | null };
    expect(body.id).toBe(startedIds[0]);
    expect(startedIds).toEqual([body.id, body.id]);
    expect(body.clientSecret).toEqual(expect.any(String));

    const again = (await (
      await slow.request('/v1/backend-services', jsonRequest('POST', validRegistration(), withKey(key)))
    ).json()) as {
      clientSecret: string | null;
      clientSecretShown: boolean;
    };
    expect(again).toMatchObject({ clientSecret: null, clientSecretShown: true });
  });

  it('a rotation retried shows the new secret once, then clientSecretShown', async () => {
    const created = (await (
      await app.request('/v1/backend-services', jsonRequest('POST', validRegistration(), alice))
    ).json()) as { id: string };
    const key = randomUUID();
    const path = `/v1/backend-services/${created.id}/rotate-secret`;
    const first = (await (await app.request(path, { method: 'POST', headers: withKey(key) })).json()) as {
      clientSecret: string;
    };
    expect(first.clientSecret).toEqual(expect.any(String));
    const retry = (await (await app.request(path, { method: 'POST', headers: withKey(key) })).json()) as {
      clientSecret: null;
      clientSecretShown: boolean;
    };
    expect(retry).toMatchObject({ clientSecret: null, clientSecretShown: true });
  });

  it('an expired record starts over', async () => {
    const store = createIdempotencyStore(db);
    const scope = { principal: 'alice', route: 'POST /v1/x', key: randomUUID() };
    expect((await store.begin(scope, 'h1', { takeOverAfterMs: 60_000 })).kind).toBe('proceed');
    await store.complete(scope, { status: 200, body: { a: 1 }, secret: null });
    expect((await store.begin(scope, 'h1', { takeOverAfterMs: 60_000 })).kind).toBe('replay');
    await db
      .updateTable('idempotency_records')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('key', '=', scope.key)
      .execute();
    expect((await store.begin(scope, 'h2', { takeOverAfterMs: 60_000 })).kind).toBe('proceed');

    // Purging removes an expired record and keeps a live one.
    const expired = { ...scope, key: randomUUID() };
    await store.begin(expired, 'h3', { takeOverAfterMs: 60_000 });
    await store.complete(expired, { status: 200, body: { a: 2 }, secret: null });
    await db
      .updateTable('idempotency_records')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('key', '=', expired.key)
      .execute();
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    const left = await db
      .selectFrom('idempotency_records')
      .select('key')
      .where('key', 'in', [scope.key, expired.key])
      .execute();
    expect(left.map((r) => r.key)).toEqual([scope.key]);
  });
});
