/**
 * Which PostgreSQL errors a retry can fix. SQLSTATE classes
 * (https://www.postgresql.org/docs/15/errcodes-appendix.html):
 *
 * - Permanent, never retried: 22 (data exception: a value the column or jsonb refuses), 23 (integrity
 *   constraint violation), 42 (syntax error or access rule violation), 54 (program limit exceeded).
 *   The same statement with the same values fails the same way every time.
 * - Everything else is transient: connection loss (08, and errors without a SQLSTATE), 40001
 *   serialization failure, 40P01 deadlock, 53 insufficient resources, 57 operator intervention
 *   (57P01 admin shutdown, 57014 statement timeout).
 */
const PERMANENT_CLASSES = new Set(['22', '23', '42', '54']);

export interface DatabaseErrorInfo {
  sqlstate: string;
  message: string;
}

/** The SQLSTATE of a pg error, looking through `cause` chains; undefined for anything else. */
export function sqlstateOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    // pg's DatabaseError carries the five-character SQLSTATE and a severity; Node's errors carry E-codes.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && 'severity' in current) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The database refused the statement itself: retrying cannot help. */
export function permanentDatabaseError(error: unknown): DatabaseErrorInfo | undefined {
  const sqlstate = sqlstateOf(error);
  if (!sqlstate || !PERMANENT_CLASSES.has(sqlstate.slice(0, 2))) return undefined;
  return { sqlstate, message: error instanceof Error ? error.message : String(error) };
}
