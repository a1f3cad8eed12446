import { sql, type Kysely } from 'kysely';

// Migrations are append-only: never edit one that has landed; add a new, later-named file instead.

/**
 * Lists read `summary` instead of `state` (docs/decisions/read-path.md): the state minus what no list
 * item shows (db/service-summary.ts): the submissions with their derived production policies, the
 * live key set's JWKS report and thumbprints, clean-up bookkeeping; of the credential-health report
 * only its one-line summary, of a pending change's submission only when it was submitted.
 *
 * A stored generated column: PostgreSQL computes it in the same write as `state`, so it is never
 * stale, also while a worker of the previous release still projects (it does not know the column).
 * Adding it rewrites the table once (https://www.postgresql.org/docs/15/ddl-generated-columns.html).
 * Every function used is immutable, as a generated column requires: hence jsonb_set on a literal
 * where jsonb_build_object (only stable) would read more easily.
 */
/** The state without what no list item shows. */
const STATE_WITHOUT = `(state - 'submission' - 'previousSubmission' - 'cleanup'
  #- '{credentials,jwksReport}' #- '{credentials,acceptedThumbprints}' #- '{credentials,highestSecretVersion}')`;

/** ... and of the health report only its summary line. */
const WITH_HEALTH = `(case when jsonb_typeof(state -> 'credentials' -> 'health' -> 'report') = 'object'
  then jsonb_set(${STATE_WITHOUT}, '{credentials,health,report}',
    jsonb_set('{"summary": null}', '{summary}', coalesce(state -> 'credentials' -> 'health' -> 'report' -> 'summary', 'null')))
  else ${STATE_WITHOUT} end)`;

/** ... and of a pending change its registration, state, credential check and when it was submitted. */
const PENDING_CHANGE = `(((state -> 'pendingChange') - 'submission'
    #- '{credentials,acceptedThumbprints}' #- '{credentials,checkedAt}')
  || jsonb_set('{"submission": null}', '{submission}',
    case when jsonb_typeof(state -> 'pendingChange' -> 'submission') = 'object'
      then jsonb_set('{"submittedAt": null}', '{submittedAt}',
        coalesce(state -> 'pendingChange' -> 'submission' -> 'submittedAt', 'null'))
      else 'null' end))`;

const SUMMARY_EXPRESSION = `case when jsonb_typeof(state -> 'pendingChange') = 'object'
  then jsonb_set(${WITH_HEALTH}, '{pendingChange}', ${PENDING_CHANGE})
  else ${WITH_HEALTH} end`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table backend_services add column summary jsonb generated always as (${sql.raw(SUMMARY_EXPRESSION)}) stored`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('backend_services').dropColumn('summary').execute();
}
