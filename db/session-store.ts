import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from './database.js';

/**
 * Where a signed-in page session lives on the server (README "Security"). The cookie carries the
 * session ID (sealed); this store decides whether it is still live. Pages get it injected (the
 * composition root, api/main.ts or createApp's default) and never query PostgreSQL themselves.
 */
export interface SessionRegistry {
  /** A new session for `subject` ending at `expiresAt`; returns its ID. Purges expired ones. */
  create(session: { subject: string; expiresAt: Date }): Promise<string>;
  /** Whether the session exists and has not expired. */
  isLive(id: string): Promise<boolean>;
  /** Ends the session now (sign-out); ending an unknown one is not an error. */
  end(id: string): Promise<void>;
}

/** A database dump must not hand out live sessions: rows hold the ID's SHA-256, not the ID. */
const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

export function createSessionStore(db: Db): SessionRegistry {
  return {
    async create({ subject, expiresAt }) {
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
    async isLive(id) {
      const row = await db
        .selectFrom('ui_sessions')
        .select('id_hash')
        .where('id_hash', '=', hashOf(id))
        .where('expires_at', '>', sql<string>`now()`)
        .executeTakeFirst();
      return row !== undefined;
    },
    async end(id) {
      await db.deleteFrom('ui_sessions').where('id_hash', '=', hashOf(id)).execute();
    },
  };
}
