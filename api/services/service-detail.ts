import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { ServiceState } from '../../workflows/backend-service/service-state.js';
import type { Principal } from '../auth/principal.js';
import { requireVisible } from './access.js';
import type { DetailCache } from './detail-cache.js';

/** A service's state with its presentation, as the detail route answers it (before allowedActions). */
export interface LoadedDetail<P> {
  state: ServiceState;
  presented: P;
}

/**
 * Reads a service for the detail route (GET /v1/backend-services/{id}): one narrow primary-key read
 * of the row's head (owner, deletion, version), then the state and its presentation from the
 * cache when the version matches (api/services/detail-cache.ts says why), or one full read.
 * Visibility is decided on the head, before anything else is looked at.
 */
export function createDetailReader<P>(
  db: Db,
  present: (state: ServiceState) => P,
  cache: DetailCache<LoadedDetail<P>>,
) {
  return async (id: string, principal: Principal): Promise<LoadedDetail<P>> => {
    const head = await db
      .selectFrom('backend_services')
      .select(['owner_id', 'deleted_at', 'projection_version', sql<string>`xmin::text`.as('xmin')])
      .where('id', '=', id)
      .executeTakeFirst();
    requireVisible(head && { ownerId: head.owner_id, deletedAt: head.deleted_at }, principal);
    const cached = cache.get(id, `${head!.projection_version}/${head!.xmin}`);
    if (cached) return cached.value;
    const row = await db
      .selectFrom('backend_services')
      .select(['state', 'projection_version', sql<string>`xmin::text`.as('xmin')])
      .where('id', '=', id)
      .executeTakeFirst();
    // Written again between the two reads: judge the newer row as well (a deletion in between).
    requireVisible(row && { ownerId: row.state.ownerId, deletedAt: row.state.deletedAt }, principal);
    const value = { state: row!.state, presented: present(row!.state) };
    cache.set(id, { version: `${row!.projection_version}/${row!.xmin}`, value });
    return value;
  };
}
