import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * The owner's undo (docs/api.md): a deleted service stays in the read model for administrators, with
 * `deleted_at`; developers' lists leave it out. And per-principal creation counters, shared by every
 * API process: one row per principal and minute window, old windows purged as new ones are counted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('backend_services').addColumn('deleted_at', 'timestamptz').execute();
  await db.schema
    .createTable('create_rate_windows')
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('create_rate_windows_pkey', ['principal', 'window_start'])
    .execute();
  await sql`create index create_rate_windows_start on create_rate_windows (window_start)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('create_rate_windows').execute();
  await db.schema.alterTable('backend_services').dropColumn('deleted_at').execute();
}
