import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * Idempotency records of the API (docs/architecture.md, Idempotency): one per (principal, method +
 * concrete path, Idempotency-Key), kept 24 h. A record is in flight while its request runs
 * (`locked_at`; null once a 5xx released it, so the retry takes over at once) and completed with
 * the first answer. `response_body` never holds a secret: a replay re-reads `secret_version` from
 * the secret store, which shows it only if it was never shown. `service_id` is the ID a create
 * reserved before starting the workflow, so a retry continues the same service.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('idempotency_records')
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('route', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('in_flight', 'completed')`))
    .addColumn('locked_at', 'timestamptz')
    .addColumn('service_id', 'text')
    .addColumn('response_status', 'integer', (c) => c.check(sql`response_status < 500`))
    .addColumn('response_body', 'jsonb')
    .addColumn('secret_version', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_records_pkey', ['principal', 'route', 'key'])
    .execute();
  await sql`create index idempotency_records_expires on idempotency_records (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('idempotency_records').execute();
}
