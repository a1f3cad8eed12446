import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * Client secrets at rest (docs/architecture.md, Secrets): AES-256-GCM ciphertext with its key ID, bound
 * to (service_id, secret_version) through the additional data. There is no plaintext column. The
 * ciphertext columns are cleared once the secret has been shown and production has it, or at
 * deactivation; the row stays so a replay can say "shown" and the fingerprint remains.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('client_secret')
    .addColumn('service_id', 'text', (c) => c.notNull())
    .addColumn('secret_version', 'integer', (c) => c.notNull().check(sql`secret_version >= 1`))
    .addColumn('fingerprint', 'text', (c) => c.notNull().check(sql`fingerprint ~ '^[0-9a-f]{8}$'`))
    .addColumn('key_id', 'text')
    .addColumn('iv', 'bytea')
    .addColumn('ciphertext', 'bytea')
    .addColumn('auth_tag', 'bytea')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('shown_at', 'timestamptz')
    .addColumn('ciphertext_deleted_at', 'timestamptz')
    .addPrimaryKeyConstraint('client_secret_pkey', ['service_id', 'secret_version'])
    // The four parts of an encrypted value exist together or not at all.
    .addCheckConstraint(
      'client_secret_ciphertext_whole',
      sql`(key_id IS NULL AND iv IS NULL AND ciphertext IS NULL AND auth_tag IS NULL)
          OR (key_id IS NOT NULL AND iv IS NOT NULL AND ciphertext IS NOT NULL AND auth_tag IS NOT NULL)`,
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('client_secret').execute();
}
