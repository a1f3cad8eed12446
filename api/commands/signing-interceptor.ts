import type { WorkflowClientInterceptor } from '@temporalio/client';
import { COMMAND_TOKEN_FIELD } from '../../platform/command-tokens.js';
import type { Actor } from '../../workflows/backend-service/inputs.js';
import type { CommandSigner } from './signer.js';

/**
 * A Temporal client interceptor that signs what a trusted in-house client sends to Backend Service
 * workflows, the way the API's command port does: the start (as its owner, a developer) and every
 * update (as the argument's actor). An argument that already carries a token is sent as it is.
 * Tests and benchmarks drive workflows directly through it; the API signs in services/commands.ts.
 */
export function commandSigningInterceptor(
  signer: CommandSigner,
  workflowType = 'backendService',
): WorkflowClientInterceptor {
  const hasToken = (argument: unknown) =>
    argument !== null && typeof argument === 'object' && COMMAND_TOKEN_FIELD in argument;
  return {
    async start(input, next) {
      const [argument, ...rest] = input.options.args;
      if (input.workflowType !== workflowType || hasToken(argument)) return next(input);
      const { ownerId } = argument as { ownerId: string };
      const signed = await signer.signArgument({
        workflowId: input.options.workflowId,
        name: 'start',
        actor: { sub: ownerId, roles: ['developer'] },
        argument,
      });
      return next({ ...input, options: { ...input.options, args: [signed, ...rest] } });
    },
    async startUpdate(input, next) {
      const [argument, ...rest] = input.args;
      const actor = (argument as { actor?: Actor } | undefined)?.actor;
      if (!actor || hasToken(argument)) return next(input);
      const signed = await signer.signArgument({
        workflowId: input.workflowExecution.workflowId,
        name: input.updateName,
        actor,
        argument,
      });
      return next({ ...input, args: [signed, ...rest] });
    },
  };
}
