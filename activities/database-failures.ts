import { ApplicationFailure } from '@temporalio/common';
import { permanentDatabaseError } from '../db/errors.js';
import { escapeForbiddenCharacters } from '../platform/text-rules.js';

/** The failure type of an activity whose statement PostgreSQL refused for good. */
export const DATABASE_REFUSED = 'DatabaseRefused';

/**
 * Our activities retry until PostgreSQL is back (an outage only delays a service), so an error no
 * retry can fix must not be retried: it would hold the service's queue for ever. A permanent
 * PostgreSQL error (db/errors.ts) becomes a non-retryable failure that fails only the update that
 * needed it; anything else keeps its own classification.
 */
export function failPermanentDatabaseErrors<T extends object>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    if (typeof fn !== 'function') {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        throw asNonRetryable(error);
      }
    };
  }
  return wrapped as T;
}

export function asNonRetryable(error: unknown): unknown {
  const refused = permanentDatabaseError(error);
  if (!refused) return error;
  return ApplicationFailure.create({
    type: DATABASE_REFUSED,
    // The message may quote the refused value: escaped and cut, it is safe for history and logs.
    message: `PostgreSQL refused the statement (SQLSTATE ${refused.sqlstate}): ${escapeForbiddenCharacters(refused.message).slice(0, 300)}`,
    details: [{ sqlstate: refused.sqlstate }],
    nonRetryable: true,
  });
}
