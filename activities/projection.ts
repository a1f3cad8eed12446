import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { permanentDatabaseError } from '../db/errors.js';
import { recordReviewDecision } from './metrics.js';
import { escapeForbiddenCharacters, sanitizeOutsideValue } from '../platform/text-rules.js';
import type {
  HistoryEntry,
  ProjectedState,
  ProjectionError,
  ProjectionOutcome,
  ServiceState,
} from '../workflows/backend-service/service-state.js';

export interface ProjectionActivities {
  projectService(input: {
    state: ServiceState;
    history: HistoryEntry | null;
    seq?: number;
  }): Promise<ProjectionOutcome>;
}

/**
 * Writes a service's state into the read model, and its transition into the history, in one
 * transaction. Ordered by projection_version: a late (retried, re-delivered) write never
 * overwrites a newer one, and a history row is written once per version.
 *
 * When PostgreSQL refuses the write for good (a data error: db/errors.ts), retrying would hold the
 * service's queue for ever. Instead the row gets a sanitised copy (refused characters escaped,
 * timestamps checked) with `projectionError`, so the API and review UI show the right status and
 * why the rest may be stale; the answer tells the workflow, which fails only the update that caused it.
 */
export function createProjectionActivities(db: Db): ProjectionActivities {
  return {
    async projectService({ state, history, seq = 0 }) {
      try {
        if ((await write(db, state, history, seq)) && history) recordReviewDecision(state, history);
        return { projectionError: null };
      } catch (error) {
        const refused = permanentDatabaseError(error);
        if (!refused) throw error;
        const projectionError: ProjectionError = {
          at: new Date().toISOString(),
          projectionVersion: state.projectionVersion,
          sqlstate: refused.sqlstate,
          message: `the read model refused this change: ${escapeForbiddenCharacters(refused.message).slice(0, 300)}`,
        };
        try {
          await write(
            db,
            sanitizedState(state, projectionError),
            history && sanitizeOutsideValue(history),
            seq,
          );
        } catch (fallbackError) {
          if (!permanentDatabaseError(fallbackError)) throw fallbackError;
          throw ApplicationFailure.create({
            type: 'ProjectionFailed',
            message: `the read model refused the service and its sanitised copy (SQLSTATE ${refused.sqlstate})`,
            nonRetryable: true,
          });
        }
        return { projectionError };
      }
    },
  };
}

const isTimestamp = (value: unknown): value is string =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value));

function sanitizedState(state: ServiceState, projectionError: ProjectionError): ProjectedState {
  const clean = sanitizeOutsideValue(state);
  const now = projectionError.at;
  return {
    ...clean,
    createdAt: isTimestamp(clean.createdAt) ? clean.createdAt : now,
    updatedAt: isTimestamp(clean.updatedAt) ? clean.updatedAt : now,
    submission: clean.submission && {
      ...clean.submission,
      submittedAt: isTimestamp(clean.submission.submittedAt) ? clean.submission.submittedAt : now,
    },
    projectionError,
  };
}

/** Writes the row (unless a newer one is there) and the history entry; true when the entry is new. */
async function write(
  db: Db,
  state: ProjectedState,
  history: HistoryEntry | null,
  seq: number,
): Promise<boolean> {
  const row = {
    id: state.serviceId,
    owner_id: state.ownerId,
    organization_id: state.registration.organizationId,
    status: state.status,
    auth_method: state.registration.authMethod.type,
    name: state.registration.name,
    revision: state.revision,
    // Set while something waits for review: the service, or its change (the review queue's key).
    submitted_at:
      state.status === 'under_review'
        ? (state.submission?.submittedAt ?? null)
        : state.status === 'active' && state.pendingChange?.state === 'under_review'
          ? (state.pendingChange.submission?.submittedAt ?? null)
          : null,
    created_at: state.createdAt,
    updated_at: state.updatedAt,
    projection_version: state.projectionVersion,
    state: JSON.stringify(state),
    deleted_at: isTimestamp(state.deletedAt) ? state.deletedAt : null,
    projection_seq: seq,
  };
  // One statement, so one round trip: the service row and its history entry are written together
  // (a statement is atomic) and the entry is reported only if it was new.
  const upsertService = db
    .insertInto('backend_services')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          owner_id: eb.ref('excluded.owner_id'),
          organization_id: eb.ref('excluded.organization_id'),
          status: eb.ref('excluded.status'),
          auth_method: eb.ref('excluded.auth_method'),
          name: eb.ref('excluded.name'),
          revision: eb.ref('excluded.revision'),
          submitted_at: eb.ref('excluded.submitted_at'),
          updated_at: eb.ref('excluded.updated_at'),
          projection_version: eb.ref('excluded.projection_version'),
          state: eb.ref('excluded.state'),
          deleted_at: eb.ref('excluded.deleted_at'),
          projection_seq: eb.ref('excluded.projection_seq'),
        }))
        // A newer version wins; for the same version, the later workflow-task attempt does: a
        // projection is a local activity, re-run when its task is retried (a worker killed or stalled
        // mid-task), while the abandoned attempt may still write. A later attempt has a longer history
        // or, for a retry the server keeps out of history until it completes, a later workflow time
        // (`updated_at` is the attempt's workflow time). History entries stay the first attempt's.
        .where(
          sql<boolean>`(backend_services.projection_version, backend_services.projection_seq, backend_services.updated_at) < (excluded.projection_version, excluded.projection_seq, excluded.updated_at)`,
        ),
    );
  if (!history) {
    await upsertService.execute();
    return false;
  }
  const rows = await db
    .with('service', () => upsertService.returning('id'))
    .with('entry', (qb) =>
      qb
        .insertInto('backend_service_history')
        .values({
          service_id: state.serviceId,
          projection_version: state.projectionVersion,
          at: isTimestamp(history.at) ? history.at : new Date().toISOString(),
          actor: history.actor,
          action: history.action,
          from_status: history.from,
          to_status: history.to,
          reason: history.reason,
          revision: history.revision,
        })
        .onConflict((oc) => oc.columns(['service_id', 'projection_version']).doNothing())
        .returning('service_id'),
    )
    .selectFrom('entry')
    .select(sql<string>`count(*)`.as('inserted'))
    .execute();
  return Number(rows[0]?.inserted ?? 0) > 0;
}
