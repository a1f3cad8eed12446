import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FAST_RETRY, newServiceId, registration } from '../services.js';
import {
  approveUpdate,
  deactivateUpdate,
  rejectUpdate,
  stateQuery,
  submitUpdate,
  workflowIdOf,
} from '../../workflows/backend-service/messages.js';
import type {
  HistoryEntry,
  ServiceState,
  ServiceStatus,
} from '../../workflows/backend-service/service-state.js';
import type { BackendServiceInput } from '../../workflows/backend-service/inputs.js';
import type { RetryTiming } from '../../workflows/backend-service/retry-timing.js';
import type { backendService } from '../../workflows/backend-service/workflow.js';

/**
 * Lifecycles a fault test sends through the system, and where each must end. The plan decides the
 * messages; the expectation is derived from the plan alone, never from what the system did.
 */
export type Plan = 'draft' | 'active' | 'declined' | 'deactivated';
export const PLANS: readonly Plan[] = ['active', 'declined', 'deactivated', 'draft'];

export interface Lifecycle {
  serviceId: string;
  plan: Plan;
}

const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

export const expectedStatus: Record<Plan, ServiceStatus> = {
  draft: 'draft',
  active: 'active',
  declined: 'rejected',
  deactivated: 'rejected',
};

/** The read model's history rows each plan must leave, in order, once each. */
export const expectedActions: Record<Plan, HistoryEntry['action'][]> = {
  draft: ['create'],
  active: ['create', 'submit', 'approve', 'approval-completed'],
  declined: ['create', 'submit', 'reject'],
  deactivated: ['create', 'submit', 'approve', 'approval-completed', 'deactivate'],
};

/** `count` lifecycles cycling through the plans (most of them reach production). */
export function planLifecycles(count: number): Lifecycle[] {
  return Array.from({ length: count }, (_, i) => ({
    serviceId: newServiceId(),
    plan: PLANS[i % PLANS.length]!,
  }));
}

export function handleOf(client: Client, serviceId: string): WorkflowHandle<typeof backendService> {
  return client.workflow.getHandle<typeof backendService>(workflowIdOf(serviceId));
}

export async function startLifecycle(
  client: Client,
  taskQueue: string,
  lifecycle: Lifecycle,
  retry: RetryTiming = FAST_RETRY,
): Promise<void> {
  const input: BackendServiceInput = {
    serviceId: lifecycle.serviceId,
    ownerId: 'alice',
    registration: registration({ type: 'client_secret' }),
    createdAt: new Date().toISOString(),
    retry,
  };
  await retrying(`start ${lifecycle.serviceId}`, () =>
    client.workflow.start<typeof backendService>('backendService', {
      workflowId: workflowIdOf(lifecycle.serviceId),
      taskQueue,
      args: [input],
      // A start retried after a lost answer finds the first one; it never starts a second run.
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  );
}

/**
 * Calls `run` until it succeeds or the deadline passes. Transport errors (worker gone, server
 * restarting, deadline exceeded) are retried; a refusal or failure of the workflow's own making
 * (an ApplicationFailure) is not: that is an answer, and a wrong one fails the test.
 */
export async function retrying<T>(what: string, run: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure)
        throw error;
      if (Date.now() > deadline)
        throw new Error(`${what}: still failing after ${timeoutMs} ms`, { cause: error });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Sends the plan's messages, each with a fixed update ID so a retry after a lost answer is the
 * same update (the workflow answers it from its record instead of applying it twice).
 */
export async function driveLifecycle(
  client: Client,
  lifecycle: Lifecycle,
  timeoutMs = 120_000,
): Promise<void> {
  const { serviceId, plan } = lifecycle;
  const handle = handleOf(client, serviceId);
  const update = <A>(name: string, run: (updateId: string) => Promise<A>) =>
    retrying(`${name} ${serviceId}`, () => run(`${serviceId}:${name}`), timeoutMs);
  if (plan === 'draft') return;

  await update('submit', (updateId) =>
    handle.executeUpdate(submitUpdate, { updateId, args: [{ actor: alice }] }),
  );
  if (plan === 'declined') {
    await update('reject', (updateId) =>
      handle.executeUpdate(rejectUpdate, { updateId, args: [{ actor: bob, reason: 'not this quarter' }] }),
    );
    return;
  }
  const { submission } = await retrying(`query ${serviceId}`, () => handle.query(stateQuery), timeoutMs);
  await update('approve', (updateId) =>
    handle.executeUpdate(approveUpdate, {
      updateId,
      args: [
        { actor: bob, revision: submission!.revision, policyHash: submission!.productionPolicies.policyHash },
      ],
    }),
  );
  // Deactivation needs the service active: approval completes in the background.
  await waitForWorkflowState(client, serviceId, (s) => s.status === 'active', timeoutMs);
  if (plan === 'deactivated') {
    await update('deactivate', (updateId) =>
      handle.executeUpdate(deactivateUpdate, { updateId, args: [{ actor: bob, reason: 'contract ended' }] }),
    );
  }
}

/** The workflow's own state (its query), polled until `predicate` holds. */
export async function waitForWorkflowState(
  client: Client,
  serviceId: string,
  predicate: (state: ServiceState) => boolean,
  timeoutMs = 120_000,
): Promise<ServiceState> {
  const deadline = Date.now() + timeoutMs;
  let last: ServiceState | undefined;
  for (;;) {
    try {
      last = await handleOf(client, serviceId).query(stateQuery);
      if (predicate(last)) return last;
    } catch {
      // Worker or server away for a moment: ask again.
    }
    if (Date.now() > deadline) {
      throw new Error(`${serviceId} did not reach the expected state; last: ${JSON.stringify(last?.status)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Where the plan leaves the workflow for good: the terminal condition of each plan. */
export function settled(plan: Plan): (state: ServiceState) => boolean {
  switch (plan) {
    case 'draft':
      return (s) => s.status === 'draft' && s.sandbox.state === 'ready';
    case 'active':
      return (s) => s.status === 'active' && s.approval === null;
    case 'declined':
      return (s) =>
        s.status === 'rejected' && s.rejection?.kind === 'declined' && s.sandbox.state === 'ready';
    case 'deactivated':
      return (s) => s.status === 'rejected' && s.cleanup?.done === true;
  }
}
