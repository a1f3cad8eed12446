import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * Projections run as local activities: a workflow task that is retried (a worker killed or stalled
 * mid-task) projects the same version again, with the retry's workflow time, while the abandoned
 * attempt may still write. `projection_seq` (the workflow's history length when the task started)
 * orders attempts of one version: the later attempt, which the workflow keeps, wins.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('backend_services')
    .addColumn('projection_seq', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
    .execute();
  await db.schema
    .alterTable('backend_service_history')
    .addColumn('projection_seq', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('backend_service_history').dropColumn('projection_seq').execute();
  await db.schema.alterTable('backend_services').dropColumn('projection_seq').execute();
}
