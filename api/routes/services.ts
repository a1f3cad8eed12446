import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { randomInt } from 'node:crypto';
import { editUpdate, rotateSecretUpdate } from '../../workflows/backend-service/messages.js';
import { newestRevision } from '../../workflows/backend-service/rules.js';
import type { ServiceState } from '../../workflows/backend-service/service-state.js';
import type { Actor, RotateSecretResult } from '../../workflows/backend-service/inputs.js';
import type { AppContext, AppEnv, Services } from '../context.js';
import { runIdempotent } from '../idempotency/run.js';
import { ApiProblem, unavailable, validationError } from '../problems.js';
import { RotateSecretBody } from '../schemas/commands.js';
import {
  commonErrors,
  IdempotencyKeyHeader,
  pageOf,
  problem,
  serviceErrors,
  ServiceIdParam,
  transitionErrors,
} from '../schemas/common.js';
import { RegistrationInput, RegistrationPatch } from '../schemas/registration.js';
import {
  HistorySchema,
  ServiceListQuery,
  ServiceSchema,
  ServiceWithSecretSchema,
} from '../schemas/service.js';
import {
  loadOwnedService,
  loadVisibleService,
  refuseIfDeactivated,
  requireRole,
} from '../services/access.js';
import { applyUpdate } from '../services/apply-update.js';
import { enforceCreateLimits } from '../services/quotas.js';
import { presentService } from '../services/present.js';
import { answerFor } from '../services/service-detail.js';
import { serviceActions } from '../services/allowed-actions.js';
import { ServiceDetailSchema } from '../schemas/service-detail.js';
import { listServices, serviceHistory, waitForService } from '../services/read-model.js';
import { patchedRegistrationInput, toRegistration } from '../services/registration.js';
import { TAGS, bearerAuth, json, jsonBody, jsonText, ok } from './openapi-helpers.js';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** `bs-` + 16 random lowercase letters or digits (≈ 82 bits): the service ID and client_id. */
export function newServiceId(): string {
  let id = 'bs-';
  for (let i = 0; i < 16; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export const actorOf = (c: AppContext): Actor => ({ sub: c.var.principal.sub, roles: c.var.principal.roles });
/** The detail's ETag: the newest revision, the pending change's when there is one (If-Match on PATCH takes it). */
export const etagOf = (state: ServiceState) => `"${newestRevision(state)}"`;

export function registerServiceRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  const present = (state: Parameters<typeof presentService>[0]) =>
    presentService(state, services.environments);
  const registrationRules = {
    mode: services.config.APP_MODE,
    orgbac: services.environments.productionOrgbac,
    organizations: services.organizations,
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/backend-services',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'Register a backend service (a draft); the secret method answers with clientSecret once',
      request: { headers: IdempotencyKeyHeader, body: jsonBody(RegistrationInput) },
      responses: {
        201: ok(ServiceWithSecretSchema, 'The new service'),
        ...transitionErrors,
        429: problem(
          'You hold as many services as you may, or created too many in a minute; see Retry-After',
        ),
      },
    }),
    async (c) => {
      const principal = c.var.principal;
      requireRole(principal, 'developer');
      const input = c.req.valid('json');
      const registration = await toRegistration(input, registrationRules);
      return runIdempotent(
        c,
        services,
        { body: input, reserveServiceId: newServiceId },
        async ({ reservedServiceId, deadline }) => {
          await enforceCreateLimits(
            services.db,
            principal.sub,
            {
              maxServicesPerOwner: services.config.MAX_SERVICES_PER_OWNER,
              createsPerMinute: services.config.CREATE_RATE_PER_MINUTE,
            },
            services.now(),
          );
          const serviceId = reservedServiceId ?? newServiceId();
          await services.commands.start(
            {
              serviceId,
              ownerId: principal.sub,
              // Where the owner hears about the service (notifications); absent when the token has no email claim.
              ...(principal.email ? { ownerEmail: principal.email } : {}),
              registration,
              createdAt: services.now().toISOString(),
            },
            actorOf(c),
          );
          // Read your writes: answer once the projection exists (with the secret's version, for that method).
          const row = await waitForService(services.db, serviceId, deadline, (r) =>
            registration.authMethod.type === 'client_secret' ? r.state.credentials.secret !== null : true,
          );
          if (!row) {
            throw unavailable(
              'The service was accepted but is not set up yet (no worker may be running); retry with the same Idempotency-Key.',
            );
          }
          if (row.state.ownerId !== principal.sub) throw unavailable('Service ID collision; retry.', 1);
          const secret = row.state.credentials.secret;
          return {
            status: 201,
            body: present(row.state),
            secret:
              registration.authMethod.type === 'client_secret' && secret
                ? { serviceId, secretVersion: secret.version }
                : null,
            headers: { Location: `/v1/backend-services/${serviceId}`, ETag: etagOf(row.state) },
          };
        },
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/backend-services',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'Your services, newest first',
      request: { query: ServiceListQuery },
      responses: {
        200: ok(pageOf(ServiceSchema, 'ServicePage'), 'A page of your services'),
        ...commonErrors,
      },
    }),
    async (c) => {
      requireRole(c.var.principal, 'developer', 'admin');
      const query = c.req.valid('query');
      const page = await listServices(services.db, {
        ownerId: c.var.principal.sub,
        limit: query.limit,
        ...(query.status ? { status: query.status } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      return jsonText(c, services.listPage(page), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/backend-services/{id}',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'The service with its environment constants and what you may do with it (owner, admin)',
      request: { params: ServiceIdParam },
      responses: {
        200: ok(ServiceDetailSchema, 'The service and your allowed actions; ETag is its revision'),
        ...serviceErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.var.principal;
      const loaded = await services.details.read(id, principal);
      const answer = answerFor(loaded, principal, () => ({
        ...loaded.presented,
        ...serviceActions(loaded.state, principal),
      }));
      return jsonText(c, answer, 200, { ETag: etagOf(loaded.state) });
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/v1/backend-services/{id}',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'Edit the registration (JSON merge-patch); If-Match required; draft or declined only',
      request: {
        params: ServiceIdParam,
        headers: IdempotencyKeyHeader.extend({
          'if-match': z
            .string()
            .optional()
            .openapi({
              param: { in: 'header' },
              example: '"3"',
              description: 'If-Match: the quoted revision you edited (ETag)',
            }),
        }),
        body: {
          required: true,
          content: {
            'application/merge-patch+json': { schema: RegistrationPatch },
            'application/json': { schema: RegistrationPatch },
          },
        },
      },
      responses: {
        200: ok(ServiceSchema, 'The edited service'),
        ...transitionErrors,
        412: problem('If-Match is not the current revision'),
        428: problem('If-Match is missing'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await loadOwnedService(services.db, id, c.var.principal);
      const ifMatch = c.req.header('If-Match');
      if (ifMatch === undefined) {
        throw new ApiProblem(
          'precondition-required',
          'Send If-Match: "<revision>" with the revision you edited (see ETag).',
        );
      }
      const expectedRevision = parseIfMatch(ifMatch);
      const patch = c.req.valid('json');
      return runIdempotent(c, services, { body: { ifMatch, patch } }, async ({ updateId, deadline }) => {
        refuseIfDeactivated(row);
        if (expectedRevision !== newestRevision(row.state)) {
          throw new ApiProblem(
            'precondition-failed',
            `revision ${expectedRevision} is not the current revision ${newestRevision(row.state)}; reload and edit again`,
            { currentStatus: row.state.status },
          );
        }
        // A live service's PATCH edits its pending change (or opens one from the live registration).
        const input = patchedRegistrationInput(
          row.state.pendingChange?.registration ?? row.state.registration,
          patch,
        );
        const registration = await toRegistration(input, registrationRules);
        const updated = await applyUpdate(
          services,
          row,
          editUpdate,
          { actor: actorOf(c), expectedRevision, registration },
          updateId,
          deadline,
        );
        return {
          status: 200,
          body: present(updated.state),
          headers: { ETag: etagOf(updated.state) },
        };
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/backend-services/{id}/rotate-secret',
      tags: [TAGS.services],
      security: bearerAuth,
      summary:
        'A new client secret, returned once as clientSecret; live at once (the old one and its tokens stop working), or staged for activateAt',
      request: {
        params: ServiceIdParam,
        headers: IdempotencyKeyHeader,
        body: { required: false, content: { 'application/json': { schema: RotateSecretBody } } },
      },
      responses: { 200: ok(ServiceWithSecretSchema, 'The service with the new secret'), ...transitionErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await loadOwnedService(services.db, id, c.var.principal);
      // Without a JSON body zod-openapi validates nothing and hands over {} (the body is optional).
      const { activateAt } = c.req.valid('json');
      if (activateAt !== undefined) refuseActivationTime(activateAt, services.now());
      const body = activateAt === undefined ? null : { activateAt };
      return runIdempotent(c, services, { body }, async ({ updateId, deadline }) => {
        let secretVersion = 0;
        const updated = await applyUpdate(
          services,
          row,
          rotateSecretUpdate,
          { actor: actorOf(c), ...(activateAt === undefined ? {} : { activateAt }) },
          updateId,
          deadline,
          (result: RotateSecretResult) => (secretVersion = result.secretVersion),
        );
        return { status: 200, body: present(updated.state), secret: { serviceId: id, secretVersion } };
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/backend-services/{id}/history',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'Transitions: who, when, from, to, reason',
      request: { params: ServiceIdParam },
      responses: { 200: ok(HistorySchema, 'Oldest first'), ...serviceErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await loadVisibleService(services.db, id, c.var.principal);
      return json(c, { items: await serviceHistory(services.db, id) }, 200);
    },
  );
}

function parseIfMatch(value: string): number {
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(value);
  if (!match) {
    throw new ApiProblem('validation-error', 'If-Match must be the quoted revision, e.g. "3".', {
      errors: [{ field: 'If-Match', message: 'must be the quoted revision, e.g. "3"' }],
    });
  }
  return Number(match[1]);
}

/** Most a planned rotation may wait: long enough to schedule a maintenance window, short enough to stay in mind. */
const MAX_STAGING_DAYS = 90;

function refuseActivationTime(activateAt: string, now: Date): void {
  const at = Date.parse(activateAt);
  const field = '/activateAt';
  if (at <= now.getTime())
    throw validationError(
      [{ field, message: 'activateAt must be in the future' }],
      'activateAt is in the past.',
    );
  if (at > now.getTime() + MAX_STAGING_DAYS * 86_400_000) {
    throw validationError(
      [{ field, message: `activateAt must be within ${MAX_STAGING_DAYS} days` }],
      'activateAt is too far ahead.',
    );
  }
}
