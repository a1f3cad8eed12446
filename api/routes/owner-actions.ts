import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { UpdateDefinition } from '@temporalio/common';
import {
  activateStagedSecretUpdate,
  deleteUpdate,
  dropPendingChangeUpdate,
  dropStagedSecretUpdate,
  revokeUpdate,
  submitUpdate,
  withdrawUpdate,
} from '../../workflows/backend-service/messages.js';
import type { Actor, UpdateResult } from '../../workflows/backend-service/inputs.js';
import type { AppContext, AppEnv, Services } from '../context.js';
import { runIdempotent } from '../idempotency/run.js';
import { ReasonBody } from '../schemas/commands.js';
import { IdempotencyKeyHeader, ServiceIdParam, transitionErrors } from '../schemas/common.js';
import { ServiceSchema } from '../schemas/service.js';
import { loadOwnedService } from '../services/access.js';
import { applyUpdate } from '../services/apply-update.js';
import { presentService } from '../services/present.js';
import { TAGS, bearerAuth, jsonBody, ok } from './openapi-helpers.js';
import { actorOf, etagOf } from './services.js';

interface OwnerCommand {
  method: 'post' | 'delete';
  path: string;
  summary: string;
  description: string;
}

/** What every owner's command documents besides its request: the service after it, or a refusal. */
const ownerCommand = (command: OwnerCommand) => ({
  ...command,
  tags: [TAGS.services],
  security: bearerAuth,
  responses: {
    200: ok(ServiceSchema, 'The service after the change'),
    ...transitionErrors,
  },
});

/**
 * One shape for the owner's commands: load the service the caller owns (with the developer role),
 * run the update under the Idempotency-Key, answer with the read model at the update's version.
 */
async function runOwnerCommand<Arg extends { actor: Actor }>(
  c: AppContext,
  services: Services,
  serviceId: string,
  update: UpdateDefinition<UpdateResult, [Arg]>,
  argument: (actor: Actor) => Arg,
  body: unknown,
) {
  const row = await loadOwnedService(services.db, serviceId, c.var.principal);
  return runIdempotent(c, services, { body }, async ({ updateId, deadline }) => {
    const updated = await applyUpdate(services, row, update, argument(actorOf(c)), updateId, deadline);
    return {
      status: 200,
      body: presentService(updated.state, services.environments),
      headers: { ETag: etagOf(updated.state) },
    };
  });
}

/** The commands that take no body: the update's argument is the actor alone. */
const BARE_COMMANDS: Array<OwnerCommand & { update: typeof withdrawUpdate }> = [
  {
    method: 'post',
    path: '/v1/backend-services/{id}/submit',
    summary: 'Submit for review (to Under Review)',
    description:
      'A draft, a declined service or a pending change goes to the review queue; the credentials are checked first (a JWKS that fails answers 409 with its `report`).',
    update: submitUpdate,
  },
  {
    method: 'post',
    path: '/v1/backend-services/{id}/withdraw',
    summary: 'Withdraw a submission (Under Review back to Draft)',
    description:
      'Refused (409) once an administrator approved it and production is being set up. The previous review, if any, stays for comparison.',
    update: withdrawUpdate,
  },
  {
    method: 'delete',
    path: '/v1/backend-services/{id}',
    summary: 'Delete a service that never went live (a draft, or declined at review)',
    description:
      'Removes the sandbox client with its policies and sessions, destroys the stored secrets and ends the service. Afterwards your GET answers 404 and your list leaves it out; administrators still see it with deletedAt. A live service is refused (409): revoke it instead.',
    update: deleteUpdate,
  },
  {
    method: 'delete',
    path: '/v1/backend-services/{id}/pending-change',
    summary: 'Drop the pending change of a live service (a draft change, or one declined at review)',
    description:
      'The service stays exactly as it is live; the sandbox returns to the live revision. A change under review is withdrawn first.',
    update: dropPendingChangeUpdate,
  },
  {
    method: 'post',
    path: '/v1/backend-services/{id}/activate-staged-secret',
    summary: 'Make the staged secret live now, instead of at its time',
    description: 'The old secret stops working, and the sessions issued under it are revoked.',
    update: activateStagedSecretUpdate,
  },
  {
    method: 'delete',
    path: '/v1/backend-services/{id}/staged-secret',
    summary: 'Drop the staged secret; the live one stays',
    description: 'The staged secret is destroyed and never goes live.',
    update: dropStagedSecretUpdate,
  },
];

/** The owner's undo and emergency controls (withdraw, delete, revoke) and the staged secret's controls. */
export function registerOwnerActionRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  for (const { update, ...command } of BARE_COMMANDS) {
    app.openapi(
      createRoute({
        ...ownerCommand(command),
        request: { params: ServiceIdParam, headers: IdempotencyKeyHeader },
      }),
      (c) => runOwnerCommand(c, services, c.req.valid('param').id, update, (actor) => ({ actor }), null),
    );
  }

  app.openapi(
    createRoute({
      ...ownerCommand({
        method: 'post',
        path: '/v1/backend-services/{id}/revoke',
        summary: "The owner's emergency cut-off of a live service (final)",
        description:
          "For a leaked key or secret: the same cut-off as an administrator's deactivation. Production refuses the client within seconds and its earlier tokens stop working; then the sandbox client and the stored secrets go. rejection.kind is revoked-by-owner.",
      }),
      request: { params: ServiceIdParam, headers: IdempotencyKeyHeader, body: jsonBody(ReasonBody) },
    }),
    (c) => {
      const body = c.req.valid('json');
      const argument = (actor: Actor) => ({ actor, reason: body.reason });
      return runOwnerCommand(c, services, c.req.valid('param').id, revokeUpdate, argument, body);
    },
  );
}
