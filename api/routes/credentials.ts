import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { checkAssertion, type EnvironmentClient } from '../../credentials/assertion-checker.js';
import { recheckCredentialsUpdate } from '../../workflows/backend-service/messages.js';
import type { ServiceState } from '../../workflows/backend-service/service-state.js';
import type { AppEnv, Services } from '../context.js';
import { runIdempotent } from '../idempotency/run.js';
import { ApiProblem } from '../problems.js';
import { AssertionCheckBody } from '../schemas/commands.js';
import { IdempotencyKeyHeader, serviceErrors, ServiceIdParam, transitionErrors } from '../schemas/common.js';
import { AssertionCheckResponse, JwksReportResponse } from '../schemas/credentials.js';
import { ServiceSchema } from '../schemas/service.js';
import { loadOwnedService, loadVisibleService } from '../services/access.js';
import { applyUpdate } from '../services/apply-update.js';
import { environmentConstants, presentService } from '../services/present.js';
import { TAGS, bearerAuth, json, jsonBody, ok } from './openapi-helpers.js';
import { actorOf, etagOf } from './services.js';

/** The credential routes of a service: re-check its JWKS, read the report, check an assertion. */
export function registerCredentialRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  const present = (state: Parameters<typeof presentService>[0]) =>
    presentService(state, services.environments);

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/backend-services/{id}/recheck-credentials',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'Fetch and validate the JWKS again (after fixing the key server), without editing',
      request: { params: ServiceIdParam, headers: IdempotencyKeyHeader },
      responses: {
        200: ok(ServiceSchema, 'The service with the new check (see the JWKS report)'),
        ...transitionErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await loadOwnedService(services.db, id, c.var.principal);
      return runIdempotent(c, services, { body: null }, async ({ updateId, deadline }) => {
        const updated = await applyUpdate(
          services,
          row,
          recheckCredentialsUpdate,
          { actor: actorOf(c) },
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
      method: 'get',
      path: '/v1/backend-services/{id}/jwks-report',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'The latest JWKS validation, per key',
      request: { params: ServiceIdParam },
      responses: { 200: ok(JwksReportResponse, 'The report (null for the secret method)'), ...serviceErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await loadVisibleService(services.db, id, c.var.principal);
      return json(
        c,
        {
          serviceId: id,
          credentialsState: row.state.credentials.state,
          report: row.state.credentials.jwksReport,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/backend-services/{id}/assertion-check',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: "Would this environment's token endpoint accept this client_assertion? Check by check",
      request: { params: ServiceIdParam, headers: IdempotencyKeyHeader, body: jsonBody(AssertionCheckBody) },
      responses: { 200: ok(AssertionCheckResponse, 'Each check passed or failed'), ...transitionErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const row = await loadOwnedService(services.db, id, c.var.principal);
      const body = c.req.valid('json');
      return runIdempotent(c, services, { body }, async () => {
        const state = row.state;
        const method = state.registration.authMethod;
        if (method.type !== 'jwks_uri') {
          throw new ApiProblem(
            'invalid-transition',
            'This service authenticates with a client secret: it sends no assertion.',
            {
              currentStatus: state.status,
            },
          );
        }
        const organizationId = services.environments.productionOrgbac
          ? state.registration.organizationId
          : null;
        const tokenUrl =
          body.environment === 'sandbox'
            ? environmentConstants(services.environments.sandboxPublicUrl, null).tokenUrl
            : environmentConstants(services.environments.productionPublicUrl, organizationId).tokenUrl;
        const fetched = await services.jwksFetcher(method.jwksUri);
        if (!fetched.ok) {
          throw new ApiProblem(
            'credentials-invalid',
            `The registered JWKS could not be read: ${fetched.message}`,
            {
              currentStatus: state.status,
              report: state.credentials.jwksReport,
            },
          );
        }
        const result = await checkAssertion({
          environmentClient: environmentClient(state, body.environment),
          clientId: id,
          jwks: fetched.document,
          jwksUri: method.jwksUri,
          tokenUrl,
          clientAssertion: body.clientAssertion,
          now: services.now(),
        });
        return {
          status: 200,
          body: { accepted: result.accepted, tokenUrl, checks: result.checks, note: result.note },
        };
      });
    },
  );
}

/**
 * Does this environment hold the service's client, active? What the token endpoint checks first
 * (docs/smart-rules.md A4, A12), known from the service's state: the sandbox client exists once a
 * revision is provisioned and until deactivation; production's only once approval has provisioned it
 * and switched it on (docs/aidbox-contract.md §8 "Order"), and never after deactivation.
 */
function environmentClient(state: ServiceState, environment: 'sandbox' | 'production'): EnvironmentClient {
  const deactivated = state.status === 'rejected' && state.rejection?.kind === 'deactivated';
  if (deactivated)
    return {
      exists: false,
      active: false,
      reason: 'The service is deactivated: its clients are removed or switched off.',
    };
  if (environment === 'sandbox') {
    if (state.sandbox.revision !== null) return { exists: true, active: true, reason: '' };
    return {
      exists: false,
      active: false,
      reason:
        state.credentials.state === 'invalid'
          ? 'The sandbox has no client for this service because its JWKS does not pass validation (see the JWKS report).'
          : 'The sandbox client is not provisioned yet.',
    };
  }
  if (state.status === 'active' && state.productionProvisioned)
    return { exists: true, active: true, reason: '' };
  if (state.approval?.state === 'provisioning')
    return {
      exists: state.productionProvisioned,
      active: false,
      reason: 'Production is being set up after approval; the client is switched on last.',
    };
  return {
    exists: false,
    active: false,
    reason: `Production has no client for this service until an administrator approves it (status ${state.status}).`,
  };
}
