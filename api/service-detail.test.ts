/**
 * The detail route answers from its cache only while the read-model row is the one the answer was
 * built from, and decides who may see the service on the row itself, cached or not
 * (api/services/service-detail.ts).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/database.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import {
  buildApp,
  createIdentities,
  seedService,
  serviceState,
  testConfig,
} from '../test-support/api-harness.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import type { DetailCache } from './services/detail-cache.js';
import { createDetailReader, type LoadedDetail } from './services/service-detail.js';

describe('the service detail and its cache', async () => {
  const config = testConfig();
  const db = createDb(config.DATABASE_URL, { poolSize: 2 });
  const temporal = createTemporalClient(config);
  afterAll(async () => {
    await db.destroy();
    await temporal.connection.close().catch(() => undefined);
  });
  const ids = await createIdentities();
  const app = buildApp(db, temporal, ids, { config });
  const owner = `detail-${randomUUID().slice(0, 8)}`;
  const asOwner = await ids.bearer(owner, ['developer']);

  const seed = async () => seedService(db, serviceState({ ownerId: owner }));
  const detail = async (id: string, headers: Record<string, string> = asOwner) => {
    const response = await app.request(`/v1/backend-services/${id}`, { headers });
    return { status: response.status, body: (await response.json()) as { name?: string } };
  };
  /** What a projection does to the row, written at the same projection version (a rewrite). */
  const renameInPlace = (id: string, name: string) =>
    sql`update backend_services set state = jsonb_set(state, '{registration,name}', to_jsonb(${name}::text))
        where id = ${id}`.execute(db);

  it('a row written again at the same projection version is read again, not served from the cache', async () => {
    const { serviceId } = await seed();
    expect((await detail(serviceId)).body.name).toBe('Acme bulk export');
    expect((await detail(serviceId)).body.name).toBe('Acme bulk export');
    await renameInPlace(serviceId, 'Renamed in place');
    expect(await detail(serviceId)).toMatchObject({ status: 200, body: { name: 'Renamed in place' } });
  });

  it('negative control: a cache keyed by the projection version alone serves the stale detail', async () => {
    const { serviceId } = await seed();
    const byProjectionVersionOnly = new Map<string, LoadedDetail<ServiceState>>();
    const careless: DetailCache<LoadedDetail<ServiceState>> = {
      get: (id, version) => {
        const value = byProjectionVersionOnly.get(`${id}@${version.split('/')[0]}`);
        return value && { version, value };
      },
      set: (id, entry) => byProjectionVersionOnly.set(`${id}@${entry.version.split('/')[0]}`, entry.value),
      size: 0,
    };
    const read = createDetailReader(db, (state) => state, careless);
    const principal = { sub: owner, roles: ['developer'] };
    expect((await read(serviceId, principal)).presented.registration.name).toBe('Acme bulk export');
    await renameInPlace(serviceId, 'Renamed in place');
    expect((await read(serviceId, principal)).presented.registration.name).toBe('Acme bulk export');
  });

  it('visibility is decided on the row even when the detail is cached: another developer 404, a deleted service 404', async () => {
    const { serviceId } = await seed();
    expect((await detail(serviceId)).status).toBe(200);
    expect((await detail(serviceId, await ids.bearer(`other-${owner}`, ['developer']))).status).toBe(404);
    expect((await detail(serviceId, await ids.bearer('detail-admin', ['admin']))).status).toBe(200);
    await sql`update backend_services set deleted_at = now() where id = ${serviceId}`.execute(db);
    expect((await detail(serviceId)).status).toBe(404);
  });
});
