/**
 * The floor for `bench:lifecycle`: what any workflow that provisions a Backend Service must do with
 * Temporal, and nothing of our shape. The same two updates (submit, approve) and query, and the same
 * outside calls as regular activities with no-op implementations: the sandbox's Client upsert and
 * policy apply, production's upsert (inactive), apply and activate, and a JWKS fetch (only for a
 * jwks_uri service: on set-up, submit and approve, as ours does). No projection, no secret
 * bookkeeping, no policy derivation, no search attributes, no command verification. Bundled on its
 * own by the bench, never registered in workflows/index.ts.
 */
import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import { approveUpdate, stateQuery, submitUpdate } from '../workflows/backend-service/messages.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import type { UpdateResult } from '../workflows/backend-service/inputs.js';

type Environment = 'sandbox' | 'production';
export interface FloorActivities {
  checkJwks(input: { serviceId: string }): Promise<void>;
  upsertClient(input: { environment: Environment; serviceId: string; active: boolean }): Promise<void>;
  applyPolicies(input: { environment: Environment; clientId: string }): Promise<void>;
  setClientActive(input: { environment: Environment; clientId: string; active: boolean }): Promise<void>;
}

const acts = proxyActivities<FloorActivities>({ startToCloseTimeout: '30s' });

export async function floorBackendService(input: { serviceId: string; jwks: boolean }): Promise<void> {
  const serviceId = input.serviceId;
  const state = {
    serviceId,
    status: 'draft' as ServiceState['status'],
    revision: 1,
    projectionVersion: 0,
    submission: null as null | { revision: number; productionPolicies: { policyHash: string } },
  };
  let approved = false;
  const result = (): UpdateResult => ({
    status: state.status,
    revision: state.revision,
    projectionVersion: state.projectionVersion,
  });
  const checkJwks = async () => {
    if (input.jwks) await acts.checkJwks({ serviceId });
  };

  setHandler(stateQuery, () => state as unknown as ServiceState);
  setHandler(submitUpdate, async () => {
    await checkJwks();
    state.submission = { revision: state.revision, productionPolicies: { policyHash: 'floor' } };
    state.status = 'under_review';
    return result();
  });
  setHandler(approveUpdate, async () => {
    await checkJwks();
    approved = true;
    return result();
  });

  await checkJwks();
  await acts.upsertClient({ environment: 'sandbox', serviceId, active: true });
  await acts.applyPolicies({ environment: 'sandbox', clientId: serviceId });

  await condition(() => approved);
  await acts.upsertClient({ environment: 'production', serviceId, active: false });
  await acts.applyPolicies({ environment: 'production', clientId: serviceId });
  await acts.setClientActive({ environment: 'production', clientId: serviceId, active: true });
  state.status = 'active';
  // Stays open, like the entity workflow it stands for.
  await condition(() => false);
}
