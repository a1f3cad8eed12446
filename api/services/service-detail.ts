import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ServiceState } from '../../workflows/backend-service/service-state.js';
import type { Principal } from '../auth/principal.js';
import { requireVisible } from './access.js';
import { createRowCache, type RowCache } from './row-cache.js';
import type { ServiceChangeFeed } from './service-changes.js';
import { serialized, type JsonText } from '../routes/openapi-helpers.js';

/** A service's state with its presentation, as the detail route answers it (before allowedActions). */
export interface LoadedDetail<P> {
  state: ServiceState;
  presented: P;
  /** The route's serialised answers, one per caller (what a caller may do depends on who they are). */
  answers: Map<string, string>;
}

/** Answers kept per entry: a service is read by its owner and a few administrators. */
const MAX_ANSWERS_PER_ENTRY = 8;

/**
 * Reads a service for the detail route (GET /v1/backend-services/{id}), deciding visibility before
 * anything else is looked at (api/services/row-cache.ts says when an entry is served):
 * - the change feed live and an entry kept: no round trip;
 * - the feed live, nothing kept: one full read;
 * - the feed down (or none): one narrow primary-key read of the row's head (owner, deletion,
 *   version), then the entry of that version or one full read.
 */
export function createDetailReader<P>(
  db: Db,
  present: (state: ServiceState) => P,
  cache: RowCache<LoadedDetail<P>>,
  feed?: { readonly live: boolean },
) {
  return async (id: string, principal: Principal): Promise<LoadedDetail<P>> => {
    if (feed?.live) {
      const trusted = cache.get(id);
      if (trusted) {
        requireVisible(trusted.value.state, principal);
        return trusted.value;
      }
    }
    const ticket = cache.begin(id);
    try {
      if (!feed?.live) {
        const head = await db
          .selectFrom('backend_services')
          .select(['owner_id', 'deleted_at', 'projection_version', sql<string>`xmin::text`.as('xmin')])
          .where('id', '=', id)
          .executeTakeFirst();
        requireVisible(head && { ownerId: head.owner_id, deletedAt: head.deleted_at }, principal);
        const cached = cache.get(id, `${head!.projection_version}/${head!.xmin}`);
        if (cached) return cached.value;
      }
      const row = await db
        .selectFrom('backend_services')
        .select(['state', 'projection_version', sql<string>`xmin::text`.as('xmin')])
        .where('id', '=', id)
        .executeTakeFirst();
      // Also judged on the full row: it may have been written (deleted) after the head was read.
      requireVisible(row?.state, principal);
      const value = { state: row!.state, presented: present(row!.state), answers: new Map() };
      cache.set(ticket, { version: `${row!.projection_version}/${row!.xmin}`, value });
      return value;
    } finally {
      ticket.end();
    }
  };
}

/**
 * The caller's answer, serialised once per entry and caller: `build` must depend only on the entry
 * and on the caller's subject and roles (allowedActions runs the workflow's validators on those).
 */
export function answerFor<P, B>(loaded: LoadedDetail<P>, principal: Principal, build: () => B): JsonText<B> {
  const key = `${principal.sub}\u0000${principal.roles.join('\u0000')}`;
  let text = loaded.answers.get(key) as JsonText<B> | undefined;
  if (text === undefined) {
    text = serialized(build());
    if (loaded.answers.size >= MAX_ANSWERS_PER_ENTRY) loaded.answers.clear();
    loaded.answers.set(key, text);
  }
  return text;
}

/** The detail route's reader and its cache, kept current by the change feed when there is one. */
export interface ServiceDetails<P> {
  read(id: string, principal: Principal): Promise<LoadedDetail<P>>;
  /** This process changed the service (a command's answer is out): its next read is fresh. */
  invalidate(id: string): void;
}

export function createServiceDetails<P>(
  db: Db,
  present: (state: ServiceState) => P,
  maxEntries: number,
  feed?: ServiceChangeFeed,
): ServiceDetails<P> {
  const cache = createRowCache<LoadedDetail<P>>(maxEntries);
  feed?.subscribe({ changed: (id) => cache.invalidate(id), reset: () => cache.reset() });
  return { read: createDetailReader(db, present, cache, feed), invalidate: (id) => cache.invalidate(id) };
}
