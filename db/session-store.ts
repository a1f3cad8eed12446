import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from './database.js';

/**
 * Where a signed-in page session lives on the server (README "Security"): the pages' SessionRegistry
 * (ui/session.ts says what each method promises). The cookie carries the session ID (sealed); this
 * store decides whether it is still live. The composition point (api/compose.ts) hands it to the
 * pages, which never query PostgreSQL themselves.
 */

/** A database dump must not hand out live sessions: rows hold the ID's SHA-256, not the ID. */
const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

export function createSessionStore(db: Db) {
  return {
    async create({ subject, expiresAt }: { subject: string; expiresAt: Date }): Promise<string> {
      // Purge on sign-in: the table stays as small as the number of live sessions, with no timer.
      await db
        .deleteFrom('ui_sessions')
        .where('expires_at', '<', sql<string>`now()`)
        .execute();
      const id = randomBytes(32).toString('base64url');
      await db
        .insertInto('ui_sessions')
        .values({ id_hash: hashOf(id), subject, expires_at: expiresAt.toISOString() })
        .execute();
      return id;
    },
    async isLive(id: string): Promise<boolean> {
      const row = await db
        .selectFrom('ui_sessions')
        .select('id_hash')
        .where('id_hash', '=', hashOf(id))
        .where('expires_at', '>', sql<string>`now()`)
        .executeTakeFirst();
      return row !== undefined;
    },
    async end(id: string): Promise<void> {
      await db.deleteFrom('ui_sessions').where('id_hash', '=', hashOf(id)).execute();
    },
  };
}
