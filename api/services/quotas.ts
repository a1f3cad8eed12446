import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { ApiProblem } from '../problems.js';

export interface CreateLimits {
  maxServicesPerOwner: number;
  createsPerMinute: number;
}

const WINDOW_MS = 60_000;

/**
 * What bounds a developer's creations: how many live services they hold (neither deactivated,
 * revoked nor deleted) and how fast they create. The rate counter is a PostgreSQL row per principal
 * and minute, so several API processes count together; a retry with the same Idempotency-Key is
 * answered from its record and never counted again.
 */
export async function enforceCreateLimits(
  db: Db,
  ownerId: string,
  limits: CreateLimits,
  now: Date,
): Promise<void> {
  const windowStart = new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS);
  const counted = await db
    .insertInto('create_rate_windows')
    .values({ principal: ownerId, window_start: windowStart.toISOString(), count: 1 })
    .onConflict((oc) =>
      oc.columns(['principal', 'window_start']).doUpdateSet({ count: sql`create_rate_windows.count + 1` }),
    )
    .returning('count')
    .executeTakeFirstOrThrow();
  if (counted.count > limits.createsPerMinute) {
    const retryAfter = Math.max(1, Math.ceil((windowStart.getTime() + WINDOW_MS - now.getTime()) / 1000));
    throw new ApiProblem(
      'rate-limited',
      `You created ${limits.createsPerMinute} services in the last minute, the most allowed; try again in ${retryAfter} s.`,
      {},
      { 'Retry-After': String(retryAfter) },
    );
  }
  // Old windows are only history: drop them as new ones are counted (indexed on window_start).
  await db
    .deleteFrom('create_rate_windows')
    .where('window_start', '<', new Date(windowStart.getTime() - 10 * WINDOW_MS).toISOString())
    .execute();

  const { live } = await db
    .selectFrom('backend_services')
    .select((eb) => eb.fn.countAll<string>().as('live'))
    .where('owner_id', '=', ownerId)
    .where('deleted_at', 'is', null)
    .where(
      sql<boolean>`not (status = 'rejected' and state->'rejection'->>'kind' in ('deactivated', 'revoked-by-owner'))`,
    )
    .executeTakeFirstOrThrow();
  if (Number(live) >= limits.maxServicesPerOwner) {
    throw new ApiProblem(
      'quota-exceeded',
      `You hold ${live} services, the most allowed (${limits.maxServicesPerOwner}). Delete drafts you no longer need, or revoke services you retired, then try again.`,
    );
  }
}
