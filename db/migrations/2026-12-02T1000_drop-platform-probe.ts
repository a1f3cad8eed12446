import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * The platform probe (a smoke-test workflow and its table) is gone: the secret-absence test carries
 * its canary through a real Backend Service instead. Its table goes with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('platform_probe').ifExists().execute();
}

/** Back to the table as 2026-11-29T1540_platform-probe.ts made it. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('platform_probe')
    .addColumn('probe_id', 'text', (c) => c.primaryKey())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
