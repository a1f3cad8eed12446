import { backendService } from '../../workflows/backend-service/workflow.js';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { workflowIdOf } from '../../workflows/backend-service/messages.js';
import { searchAttributesOf } from '../../workflows/search-attributes.js';
import { INITIAL_STATUS } from '../../workflows/backend-service/service-state.js';
import type { Actor, BackendServiceInput } from '../../workflows/backend-service/inputs.js';
import type { RetryTiming } from '../../workflows/backend-service/retry-timing.js';
import type { CommandSigner } from '../commands/signer.js';

/**
 * The API's port to Temporal: start a service's workflow, send it an update. Every call has a
 * deadline (TEMPORAL_CALL_TIMEOUT_MS): without a worker polling, an update would otherwise wait
 * forever; past the deadline the error mapper answers 503 with Retry-After.
 */
export interface BackendServiceCommands {
  /**
   * Starts the workflow as `actor`; `already-started` when a retry of the same create started it
   * before. The start and every update carry a command token (docs/decisions/signed-commands.md).
   */
  start(input: BackendServiceInput, actor: Actor): Promise<'started' | 'already-started'>;
  update<Ret, Arg extends { actor: Actor }>(
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

export function createTemporalCommands(
  client: Client,
  options: {
    taskQueue: string;
    callTimeoutMs: number;
    signer: CommandSigner;
    retry?: RetryTiming;
    /** PROVISIONING_MAX_ROUNDS, for each new workflow; without it the workflow's default applies. */
    provisioningMaxRounds?: number;
  },
): BackendServiceCommands {
  // A deadline on the gRPC calls, and an abort just after it so no SDK retry outlives the request.
  const withDeadline = <T>(fn: () => Promise<T>) =>
    client.withAbortSignal(AbortSignal.timeout(options.callTimeoutMs + 250), () =>
      client.withDeadline(Date.now() + options.callTimeoutMs, fn),
    );
  return {
    async start(input, actor) {
      const workflowId = workflowIdOf(input.serviceId);
      // The token signs exactly what is sent, retry timings and the provisioning bound included.
      const argument = await options.signer.signArgument({
        workflowId,
        name: 'start',
        actor,
        argument: {
          ...input,
          ...(options.retry && !input.retry ? { retry: options.retry } : {}),
          ...(options.provisioningMaxRounds !== undefined && input.provisioningMaxRounds === undefined
            ? { provisioningMaxRounds: options.provisioningMaxRounds }
            : {}),
        },
      });
      try {
        await withDeadline(() =>
          // By function reference: the workflow's name and argument type come from the function itself.
          client.workflow.start(backendService, {
            workflowId,
            taskQueue: options.taskQueue,
            args: [argument],
            // A deactivated service's ID never comes back (docs/architecture.md, IDs).
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            workflowIdConflictPolicy: 'FAIL',
            // Visible to operators from the start, even while no worker runs it; the workflow
            // upserts the same attributes when it first runs (only what it computes counts there).
            typedSearchAttributes: searchAttributesOf({
              status: INITIAL_STATUS,
              ownerId: input.ownerId,
              registration: input.registration,
            }),
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
      const workflowId = workflowIdOf(serviceId);
      const handle = client.workflow.getHandle(workflowId);
      // Signed per call: a retry with the same update ID carries a fresh token (and jti).
      const signed = await options.signer.signArgument({
        workflowId,
        name: definition.name,
        actor: arg.actor,
        argument: arg,
      });
      try {
        return await withDeadline(() =>
          handle.executeUpdate(definition, { args: [signed], ...(updateId ? { updateId } : {}) }),
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
