import { createRoute, type OpenAPIHono, type z } from '@hono/zod-openapi';
import type { UpdateDefinition } from '@temporalio/common';
import {
  activateStagedSecretUpdate,
  deleteUpdate,
  dropPendingChangeUpdate,
  dropStagedSecretUpdate,
  revokeUpdate,
  withdrawUpdate,
} from '../../workflows/backend-service/messages.js';
import type { Actor, UpdateResult } from '../../workflows/backend-service/inputs.js';
import type { AppContext, AppEnv, Services } from '../context.js';
import { runIdempotent, type Outcome } from '../idempotency/run.js';
import { ReasonBody } from '../schemas/commands.js';
import { IdempotencyKeyHeader, ServiceIdParam, transitionErrors } from '../schemas/common.js';
import { ServiceSchema } from '../schemas/service.js';
import { loadOwnedService } from '../services/access.js';
import { applyUpdate } from '../services/apply-update.js';
import { presentService } from '../services/present.js';
import { addRoute, valid } from './register.js';
import { etagOf } from './services.js';

const TAG = ['Backend services'];
const security = [{ bearerAuth: [] }];

interface OwnerCommand<Arg extends { actor: Actor }> {
  method: 'post' | 'delete';
  path: string;
  summary: string;
  description: string;
  update: UpdateDefinition<UpdateResult, [Arg]>;
  /** The request body's schema, when the command takes one. */
  body?: z.ZodType;
  argument: (actor: Actor, body: unknown) => Arg;
}

/**
 * One shape for the owner's commands: load the service the caller owns (with the developer role),
 * run the update under the Idempotency-Key, answer with the read model at the update's version.
 */
function addOwnerCommand<Arg extends { actor: Actor }>(
  app: OpenAPIHono<AppEnv>,
  services: Services,
  command: OwnerCommand<Arg>,
): void {
  addRoute(
    app,
    createRoute({
      method: command.method,
      path: command.path,
      tags: TAG,
      security,
      summary: command.summary,
      description: command.description,
      request: {
        params: ServiceIdParam,
        headers: IdempotencyKeyHeader,
        ...(command.body
          ? { body: { required: true, content: { 'application/json': { schema: command.body } } } }
          : {}),
      },
      responses: {
        200: {
          description: 'The service after the change',
          content: { 'application/json': { schema: ServiceSchema } },
        },
        ...transitionErrors,
      },
    }),
    async (c: AppContext) => {
      const { id } = valid<{ id: string }>(c, 'param');
      const row = await loadOwnedService(services.db, id, c.var.principal);
      const body = command.body ? valid<unknown>(c, 'json') : null;
      const actor = { sub: c.var.principal.sub, roles: c.var.principal.roles };
      return runIdempotent(c, services, { body }, async ({ updateId, deadline }): Promise<Outcome> => {
        const updated = await applyUpdate(
          services,
          row,
          command.update,
          command.argument(actor, body),
          updateId,
          deadline,
        );
        return {
          status: 200,
          body: presentService(updated.state, services.environments),
          headers: { ETag: etagOf(updated.state) },
        };
      });
    },
  );
}

/** The owner's undo and emergency controls (withdraw, delete, revoke) and the staged secret's controls. */
export function registerOwnerActionRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  const bare = (actor: Actor) => ({ actor });
  addOwnerCommand(app, services, {
    method: 'post',
    path: '/v1/backend-services/{id}/withdraw',
    summary: 'Withdraw a submission (Under Review back to Draft)',
    description:
      'Refused (409) once an administrator approved it and production is being set up. The previous review, if any, stays for comparison.',
    update: withdrawUpdate,
    argument: bare,
  });
  addOwnerCommand(app, services, {
    method: 'delete',
    path: '/v1/backend-services/{id}',
    summary: 'Delete a service that never went live (a draft, or declined at review)',
    description:
      'Removes the sandbox client with its policies and sessions, destroys the stored secrets and ends the service. Afterwards your GET answers 404 and your list leaves it out; administrators still see it with deletedAt. A live service is refused (409): revoke it instead.',
    update: deleteUpdate,
    argument: bare,
  });
  addOwnerCommand(app, services, {
    method: 'post',
    path: '/v1/backend-services/{id}/revoke',
    summary: "The owner's emergency cut-off of a live service (final)",
    description:
      "For a leaked key or secret: the same cut-off as an administrator's deactivation. Production refuses the client within seconds and its earlier tokens stop working; then the sandbox client and the stored secrets go. rejection.kind is revoked-by-owner.",
    update: revokeUpdate,
    body: ReasonBody,
    argument: (actor, body) => ({ actor, reason: (body as z.infer<typeof ReasonBody>).reason }),
  });
  addOwnerCommand(app, services, {
    method: 'delete',
    path: '/v1/backend-services/{id}/pending-change',
    summary: 'Drop the pending change of a live service (a draft change, or one declined at review)',
    description:
      'The service stays exactly as it is live; the sandbox returns to the live revision. A change under review is withdrawn first.',
    update: dropPendingChangeUpdate,
    argument: bare,
  });
  addOwnerCommand(app, services, {
    method: 'post',
    path: '/v1/backend-services/{id}/activate-staged-secret',
    summary: 'Make the staged secret live now, instead of at its time',
    description: 'The old secret stops working, and the sessions issued under it are revoked.',
    update: activateStagedSecretUpdate,
    argument: bare,
  });
  addOwnerCommand(app, services, {
    method: 'delete',
    path: '/v1/backend-services/{id}/staged-secret',
    summary: 'Drop the staged secret; the live one stays',
    description: 'The staged secret is destroyed and never goes live.',
    update: dropStagedSecretUpdate,
    argument: bare,
  });
}
