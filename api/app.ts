import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import type { Db } from '../db/database.js';
import type { ApiConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { checkPostgres, checkTemporal } from './health.js';

export interface ApiDependencies {
  config: ApiConfig;
  db: Db;
  temporal: Client;
  log: Logger;
}

export function createApp(deps: ApiDependencies): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const [postgres, temporal] = await Promise.all([checkPostgres(deps.db), checkTemporal(deps.temporal)]);
    const ready = postgres.ok && temporal.ok;
    if (!ready) deps.log.warn({ postgres, temporal }, 'not ready');
    c.header('Cache-Control', 'no-store');
    if (!ready) c.header('Retry-After', '5');
    return c.json(
      { status: ready ? 'ready' : 'unavailable', checks: { postgres, temporal } },
      ready ? 200 : 503,
    );
  });

  app.onError((error, c) => {
    // Last resort for bugs: no stack, no internals, no echo of the request.
    deps.log.error({ err: { name: error.name, message: error.message } }, 'unhandled error');
    return c.json(
      {
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred.',
      },
      500,
      { 'Content-Type': 'application/problem+json' },
    );
  });

  return app;
}
