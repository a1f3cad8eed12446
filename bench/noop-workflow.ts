/**
 * The ceiling for `bench:lifecycle`: a workflow with the Backend Service's shape and none of its
 * work. Same updates (submit, approve) and query, the same activities in the same order with the
 * same waits (setup 6, submit 2, approve 1 before its answer and 5 after), the same search
 * attribute upserts; the worker registers no-op implementations for those activities. Bundled
 * on its own by the bench, never registered in workflows/index.ts.
 */
import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { approveUpdate, stateQuery, submitUpdate } from '../workflows/backend-service/messages.js';
import { BackendServiceOwner, BackendServiceStatus } from '../workflows/search-attributes.js';
import type { ServiceState, UpdateResult } from '../workflows/backend-service/types.js';

export interface NoopActivities {
  generateClientSecret(input: unknown): Promise<void>;
  derivePolicies(input: unknown): Promise<void>;
  upsertClient(input: unknown): Promise<void>;
  applyPolicies(input: unknown): Promise<void>;
  setClientActive(input: unknown): Promise<void>;
  settleSecrets(input: unknown): Promise<void>;
  projectService(input: { serviceId: string; status: string }): Promise<void>;
}

const acts = proxyActivities<NoopActivities>({ startToCloseTimeout: '30s' });

export async function noopBackendService(input: { serviceId: string; ownerId: string }): Promise<void> {
  const state = {
    serviceId: input.serviceId,
    status: 'draft' as ServiceState['status'],
    revision: 1,
    projectionVersion: 0,
    submission: null as null | { revision: number; productionPolicies: { policyHash: string } },
  };
  let setupDone = false;
  let approved = false;
  const project = async () => {
    state.projectionVersion += 1;
    upsertSearchAttributes([
      { key: BackendServiceStatus, value: state.status },
      { key: BackendServiceOwner, value: input.ownerId },
    ]);
    await acts.projectService({ serviceId: state.serviceId, status: state.status });
  };
  const result = (): UpdateResult => ({
    status: state.status,
    revision: state.revision,
    projectionVersion: state.projectionVersion,
  });

  setHandler(stateQuery, () => state as unknown as ServiceState);
  setHandler(submitUpdate, async () => {
    await condition(() => setupDone);
    await acts.derivePolicies({});
    state.submission = { revision: state.revision, productionPolicies: { policyHash: 'noop' } };
    state.status = 'under_review';
    await project();
    return result();
  });
  setHandler(approveUpdate, async () => {
    await project();
    approved = true;
    return result();
  });

  await acts.generateClientSecret({});
  await project();
  await acts.derivePolicies({});
  await acts.upsertClient({});
  await acts.applyPolicies({});
  await project();
  setupDone = true;

  await condition(() => approved);
  await acts.upsertClient({});
  await acts.applyPolicies({});
  await acts.setClientActive({});
  state.status = 'active';
  await acts.settleSecrets({});
  await project();
  // Stays open, like the entity workflow it stands for.
  await condition(() => false);
}
