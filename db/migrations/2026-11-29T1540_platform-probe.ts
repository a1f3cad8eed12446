import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('platform_probe')
    .addColumn('probe_id', 'text', (c) => c.primaryKey())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('platform_probe').execute();
}
