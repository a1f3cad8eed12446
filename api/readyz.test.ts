import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDb, type Db } from '../db/database.js';
import { apiSchema, parseConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { freePort } from '../platform/ports.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import { startDevServer, type DevServer } from '../platform/temporal-dev-server.js';
import { createApp } from './app.js';

describe('/healthz and /readyz', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  function appFor(temporalAddress: string, db: Db) {
    const config = parseConfig(apiSchema, {
      TEMPORAL_ADDRESS: temporalAddress,
      DATABASE_URL: inject('databaseUrl'),
      COMMAND_SIGNING_KEY: inject('commandSigningKey'),
    });
    const temporal = createTemporalClient(config);
    cleanups.push(() => temporal.connection.close());
    return createApp({ config, db, temporal, log: createLogger('test', 'silent') });
  }

  it('turns 503 when its own Temporal dev server stops, and names what is down', async () => {
    const server: DevServer = await startDevServer({
      cli: inject('temporalCliPath'),
      port: await freePort(),
      headless: true,
    });
    cleanups.push(() => server.stop());
    const db = createDb(inject('databaseUrl'), { poolSize: 2 });
    cleanups.push(() => db.destroy());
    const app = appFor(server.address, db);

    expect((await app.request('/healthz')).status).toBe(200);
    const up = await app.request('/readyz');
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ status: 'ready' });

    await server.stop();
    const down = await app.request('/readyz');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBeTruthy();
    const body = (await down.json()) as { checks: { temporal: { ok: boolean }; postgres: { ok: boolean } } };
    expect(body.checks.temporal.ok).toBe(false);
    expect(body.checks.postgres.ok).toBe(true);
    // Liveness does not depend on the dependencies.
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('answers 503 when PostgreSQL is unreachable', async () => {
    const closedPort = await freePort();
    const db = createDb(`postgres://postgres@127.0.0.1:${closedPort}/nothing`, { connectionTimeoutMs: 500 });
    cleanups.push(() => db.destroy());
    const app = appFor(inject('temporalAddress'), db);
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    const body = (await response.json()) as {
      checks: { temporal: { ok: boolean }; postgres: { ok: boolean } };
    };
    expect(body.checks.postgres.ok).toBe(false);
    expect(body.checks.temporal.ok).toBe(true);
  });
});
