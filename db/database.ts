import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

// Return timestamps and bigints as strings: the read model hands them to JSON unchanged and a JS
// Date would silently lose microseconds and time-zone intent.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => new Date(v).toISOString());
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export interface DbOptions {
  poolSize?: number;
  /** Milliseconds a query may wait for a pooled connection before failing (the API turns that into 503). */
  connectionTimeoutMs?: number;
  /** Server-side statement timeout. */
  statementTimeoutMs?: number;
}

export function createPool(databaseUrl: string, options: DbOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 3_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    // Without this a dropped connection (server restart, proxy cut) crashes the process.
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on the next checkout.
  });
  pool.on('connect', (client) => {
    // A checked-out client whose connection drops between two statements emits 'error' on itself;
    // unheard, that is an uncaught exception that kills the process. The query in flight fails
    // anyway (and is retried by its caller), so there is nothing more to do here.
    client.on('error', () => undefined);
  });
  return pool;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(databaseUrl, options) }) });
}
