import { WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import type { Actor, UpdateResult } from '../../workflows/backend-service/inputs.js';
import type { Services } from '../context.js';
import { unavailable } from '../problems.js';
import { refuseIfDeactivated } from './access.js';
import { findService, waitForService, type ServiceRow } from './read-model.js';

/**
 * Sends one update to the service's workflow and answers with the read model at (at least) the
 * projection version the update produced: read your writes. A deactivated service is answered
 * from the read model (its workflow has completed), before and after the call.
 */
export async function applyUpdate<Ret extends UpdateResult, Arg extends { actor: Actor }>(
  services: Services,
  row: ServiceRow,
  definition: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  updateId: string | undefined,
  deadline: number,
  onResult?: (result: Ret) => void,
): Promise<ServiceRow> {
  refuseIfDeactivated(row);
  const serviceId = row.state.serviceId;
  let result: Ret;
  try {
    result = await services.commands.update(serviceId, definition, arg, updateId);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      const latest = await findService(services.db, serviceId);
      if (latest) refuseIfDeactivated(latest);
    }
    throw error;
  }
  onResult?.(result);
  const projected = await waitForService(
    services.db,
    serviceId,
    Math.max(deadline, Date.now() + 1_000),
    (r) => r.projectionVersion >= result.projectionVersion,
  );
  if (!projected) throw unavailable('The change was applied but the read model is behind; reload shortly.');
  // Read your writes on the detail route too, whenever the feed's announcement arrives.
  services.details.invalidate(serviceId);
  return projected;
}
