import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * A service's notification preferences (docs/decisions/notifications.md): which e-mails its owner
 * turned off, and its webhook with the signing secret encrypted like a client secret (AES-256-GCM
 * under SECRET_KEYS, bound to the service and the secret's version). Read by the notification
 * activities at send time, so a change needs no workflow update. No plaintext column by design.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_settings')
    .addColumn('service_id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('webhook_url', 'text')
    .addColumn('webhook_secret_version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('webhook_key_id', 'text')
    .addColumn('webhook_iv', 'bytea')
    .addColumn('webhook_ciphertext', 'bytea')
    .addColumn('webhook_auth_tag', 'bytea')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notification_settings').execute();
}
