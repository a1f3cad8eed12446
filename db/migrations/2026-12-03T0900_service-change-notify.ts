import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * Every write of a read-model row announces itself: `pg_notify('backend_service_changed', id)`
 * from a row trigger, delivered to listeners when the writing transaction commits (nothing for a
 * rolled-back one; https://www.postgresql.org/docs/15/sql-notify.html). The API's detail cache
 * listens (api/services/service-changes.ts), so while it hears every change it answers a cached
 * detail without a round trip (docs/decisions/read-path.md). A trigger rather than a call in the
 * projection: every writer is covered, also a migration, an operator's SQL or a worker of an older
 * release.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function notify_backend_service_change() returns trigger
    language plpgsql as $$
    begin
      perform pg_notify('backend_service_changed', coalesce(new.id, old.id));
      return null;
    end $$`.execute(db);
  await sql`drop trigger if exists backend_service_changed on backend_services`.execute(db);
  await sql`
    create trigger backend_service_changed
    after insert or update or delete on backend_services
    for each row execute function notify_backend_service_change()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists backend_service_changed on backend_services`.execute(db);
  await sql`drop function if exists notify_backend_service_change()`.execute(db);
}
