import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * Server-side sessions of the portal and review pages (db/session-store.ts): a signed-in session is
 * live while its row exists and has not expired; sign-out deletes the row, so a copy of the cookie
 * taken before is refused afterwards. Only the SHA-256 of the session ID is stored, never the ID
 * itself nor the user's token (those stay in the sealed cookie).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ui_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index ui_sessions_expires on ui_sessions (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ui_sessions').execute();
}
