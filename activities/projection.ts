import type { Db } from '../db/database.js';
import type { HistoryEntry, ServiceState } from '../workflows/backend-service/types.js';

export interface ProjectionActivities {
  projectService(input: { state: ServiceState; history: HistoryEntry | null }): Promise<void>;
}

/**
 * Writes a service's state into the read model, and its transition into the history, in one
 * transaction. Ordered by projection_version: a late (retried, re-delivered) write never
 * overwrites a newer one, and a history row is written once per version.
 */
export function createProjectionActivities(db: Db): ProjectionActivities {
  return {
    async projectService({ state, history }) {
      const row = {
        id: state.serviceId,
        owner_id: state.ownerId,
        organization_id: state.registration.organizationId,
        status: state.status,
        auth_method: state.registration.authMethod.type,
        name: state.registration.name,
        revision: state.revision,
        submitted_at: state.status === 'under_review' ? (state.submission?.submittedAt ?? null) : null,
        created_at: state.createdAt,
        updated_at: state.updatedAt,
        projection_version: state.projectionVersion,
        state: JSON.stringify(state),
      };
      await db.transaction().execute(async (tx) => {
        await tx
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
              }))
              .whereRef('backend_services.projection_version', '<', 'excluded.projection_version'),
          )
          .execute();
        if (history) {
          await tx
            .insertInto('backend_service_history')
            .values({
              service_id: state.serviceId,
              projection_version: state.projectionVersion,
              at: history.at,
              actor: history.actor,
              action: history.action,
              from_status: history.from,
              to_status: history.to,
              reason: history.reason,
              revision: history.revision,
            })
            .onConflict((oc) => oc.columns(['service_id', 'projection_version']).doNothing())
            .execute();
        }
      });
    },
  };
}
