/**
 * The detail route answers from its cache only while the read-model row is the one the answer was
 * built from, and decides who may see the service on the row itself, cached or not
 * (api/services/service-detail.ts): checked against the row's head without a change feed, trusted
 * while the feed hears every write (api/services/service-changes.ts).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../db/database.js';
import { liveServiceChanges, untilLive } from '../test-support/service-changes.js';
import type { ServiceChangeFeed } from './services/service-changes.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import {
  buildApp,
  createIdentities,
  seedService,
  serviceState,
  testConfig,
} from '../test-support/api-harness.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import type { RowCache } from './services/row-cache.js';
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
    const careless: RowCache<LoadedDetail<ServiceState>> = {
      get: (id, version = '') => {
        const value = byProjectionVersionOnly.get(`${id}@${version.split('/')[0]}`);
        return value && { version, value };
      },
      begin: (id) => ({ id, end: () => undefined }),
      set: (ticket, entry) =>
        byProjectionVersionOnly.set(`${ticket.id}@${entry.version.split('/')[0]}`, entry.value),
      invalidate: () => undefined,
      reset: () => undefined,
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

  describe('with the change feed', async () => {
    /** The app's database, counting the statements it runs. */
    const counted = (base: Db) => {
      const counter = { statements: 0 };
      const db = base.withPlugin({
        transformQuery: (args) => ((counter.statements += 1), args.node),
        transformResult: async (args) => args.result,
      });
      return { db, counter };
    };
    const appWith = (feed: ServiceChangeFeed) => {
      const { db: countedDb, counter } = counted(db);
      const withFeed = buildApp(countedDb, temporal, ids, { config, serviceChanges: feed });
      const read = async (id: string) => {
        const response = await withFeed.request(`/v1/backend-services/${id}`, { headers: asOwner });
        return (await response.json()) as { name?: string };
      };
      return { read, counter };
    };
    /** Reads until the name is `name` (the announcement arrives just after the commit), or gives up. */
    const eventually = async (read: () => Promise<{ name?: string }>, name: string, ms = 3_000) => {
      const deadline = Date.now() + ms;
      let last = await read();
      while (last.name !== name && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        last = await read();
      }
      return last.name;
    };
    const applicationName = `change-feed-test-${randomUUID().slice(0, 8)}`;
    const feed = await liveServiceChanges(config.DATABASE_URL, { applicationName, reconnectMs: 50 });
    afterAll(() => feed.close());

    it('a cached detail is answered without a statement, and a write to its row is seen', async () => {
      const { serviceId } = await seed();
      const { read, counter } = appWith(feed);
      // The seed's own announcement may arrive after the first read kept the detail (and evict it):
      // read until one read runs no statement.
      let statementsOfLastRead = -1;
      for (let attempt = 0; attempt < 20 && statementsOfLastRead !== 0; attempt++) {
        const before = counter.statements;
        expect((await read(serviceId)).name).toBe('Acme bulk export');
        statementsOfLastRead = counter.statements - before;
      }
      expect(statementsOfLastRead).toBe(0);
      await renameInPlace(serviceId, 'Renamed while cached');
      expect(await eventually(() => read(serviceId), 'Renamed while cached')).toBe('Renamed while cached');
    });

    it('negative control: a feed that says it is live but hears nothing serves the stale detail', async () => {
      const { serviceId } = await seed();
      const deaf: ServiceChangeFeed = { live: true, subscribe: () => () => false, close: async () => {} };
      const { read } = appWith(deaf);
      expect((await read(serviceId)).name).toBe('Acme bulk export');
      await renameInPlace(serviceId, 'Renamed unheard');
      expect(await eventually(() => read(serviceId), 'Renamed unheard', 300)).toBe('Acme bulk export');
    });

    it('when the feed’s connection drops, details are checked against the row until it listens again', async () => {
      const { serviceId } = await seed();
      const { read } = appWith(feed);
      expect((await read(serviceId)).name).toBe('Acme bulk export');
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
                where application_name = ${applicationName}`.execute(db);
      const deadline = Date.now() + 3_000;
      while (feed.live && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(feed.live).toBe(false);
      await renameInPlace(serviceId, 'Renamed while deaf');
      // Not `eventually`: the checked path sees the write on the first read.
      expect((await read(serviceId)).name).toBe('Renamed while deaf');
      await untilLive(feed);
      expect((await read(serviceId)).name).toBe('Renamed while deaf');
      await renameInPlace(serviceId, 'Renamed after');
      expect(await eventually(() => read(serviceId), 'Renamed after')).toBe('Renamed after');
    });
  });
});
