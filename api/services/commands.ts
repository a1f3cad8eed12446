import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { workflowIdOf } from '../../workflows/backend-service/messages.js';
import type { BackendServiceInput, RetryTiming } from '../../workflows/backend-service/types.js';

/**
 * The API's port to Temporal: start a service's workflow, send it an update. Every call has a
 * deadline (TEMPORAL_CALL_TIMEOUT_MS): without a worker polling, an update would otherwise wait
 * forever; past the deadline the error mapper answers 503 with Retry-After.
 */
export interface BackendServiceCommands {
  /** Starts the workflow; `already-started` when a retry of the same create started it before. */
  start(input: BackendServiceInput): Promise<'started' | 'already-started'>;
  update<Ret, Arg>(
    serviceId: string,
    definition: UpdateDefinition<Ret, [Arg]>,
    arg: Arg,
    updateId?: string,
  ): Promise<Ret>;
}

/** A refusal or failure the workflow reported for an update (validator or handler). */
export class UpdateRefused extends Error {
  override name = 'UpdateRefused';
  constructor(
    readonly type: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const BACKEND_SERVICE_WORKFLOW = 'backendService';

export function createTemporalCommands(
  client: Client,
  options: { taskQueue: string; callTimeoutMs: number; retry?: RetryTiming },
): BackendServiceCommands {
  // A deadline on the gRPC calls, and an abort just after it so no SDK retry outlives the request.
  const withDeadline = <T>(fn: () => Promise<T>) =>
    client.withAbortSignal(AbortSignal.timeout(options.callTimeoutMs + 250), () =>
      client.withDeadline(Date.now() + options.callTimeoutMs, fn),
    );
  return {
    async start(input) {
      try {
        await withDeadline(() =>
          client.workflow.start(BACKEND_SERVICE_WORKFLOW, {
            workflowId: workflowIdOf(input.serviceId),
            taskQueue: options.taskQueue,
            args: [options.retry && !input.retry ? { ...input, retry: options.retry } : input],
            // A deactivated service's ID never comes back (temporal-style 1.3).
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
          }),
        );
        return 'started';
      } catch (error) {
        // The reserved ID was started by an earlier attempt of the same create.
        if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-started';
        throw error;
      }
    },
    async update(serviceId, definition, arg, updateId) {
      const handle = client.workflow.getHandle(workflowIdOf(serviceId));
      try {
        return await withDeadline(() =>
          handle.executeUpdate(definition, { args: [arg], ...(updateId ? { updateId } : {}) }),
        );
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
          const details = (error.cause.details?.[0] ?? {}) as Record<string, unknown>;
          throw new UpdateRefused(error.cause.type ?? 'Error', error.cause.message, details);
        }
        throw error;
      }
    },
  };
}
