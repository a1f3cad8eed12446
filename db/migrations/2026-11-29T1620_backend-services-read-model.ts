import { sql, type Kysely } from 'kysely';

// The read model: a projection of each Backend Service workflow's state, written by the projection
// activity and ordered by projection_version (docs/architecture.md, "State changes go through the workflow").
// Append-only migration: never edit it once landed.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('backend_services')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('auth_method', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('submitted_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('projection_version', 'bigint', (c) => c.notNull())
    .addColumn('state', 'jsonb', (c) => c.notNull())
    .execute();
  // Keyset pagination, newest first, for each way the API lists services.
  await sql`create index backend_services_owner_created on backend_services (owner_id, created_at desc, id desc)`.execute(
    db,
  );
  await sql`create index backend_services_status_created on backend_services (status, created_at desc, id desc)`.execute(
    db,
  );
  await sql`create index backend_services_created on backend_services (created_at desc, id desc)`.execute(db);
  await sql`create index backend_services_org_created on backend_services (organization_id, created_at desc, id desc)`.execute(
    db,
  );
  // The review queue: under review, oldest submission first.
  await sql`create index backend_services_review_queue on backend_services (submitted_at, id) where status = 'under_review'`.execute(
    db,
  );

  await db.schema
    .createTable('backend_service_history')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('service_id', 'text', (c) => c.notNull())
    .addColumn('projection_version', 'bigint', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addUniqueConstraint('backend_service_history_once', ['service_id', 'projection_version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('backend_service_history').execute();
  await db.schema.dropTable('backend_services').execute();
}
