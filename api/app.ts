import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Hono } from 'hono';
import { createJwksFetcher } from '../credentials/jwks-fetch.js';
import { systemResolver } from '../platform/network.js';
import { requireBearer } from './auth/middleware.js';
import { createTokenVerifier } from './auth/verifier.js';
import type { ApiDependencies, AppEnv, Services } from './context.js';
import { toProblem } from './errors.js';
import { checkPostgres, checkTemporal } from './health.js';
import { limitBodySize, limitJsonDepth, strictTransportSecurity } from './http-limits.js';
import { jwksFetchLimitsFromConfig } from '../credentials/config.js';
import { createIdempotencyStore } from './idempotency/store.js';
import { countingRefusals } from './metrics.js';
import { tracingMiddleware } from './tracing.js';
import { noOrganizations, organizationsNotConfigured } from './organizations.js';
import { ApiProblem, notFound, problemResponse } from './problems.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerDocsRoutes } from './routes/docs.js';
import { TAGS } from './routes/openapi-helpers.js';
import { registerOrganizationRoutes } from './routes/organizations.js';
import { registerOwnerActionRoutes } from './routes/owner-actions.js';
import { registerCredentialRoutes } from './routes/credentials.js';
import { registerServiceRoutes } from './routes/services.js';
import { registerDevMailRoute, registerNotificationRoutes } from './routes/notifications.js';
import { createNotificationSettingsStore } from '../notifications/settings-store.js';
import { createCommandSigner } from './commands/signer.js';
import { createTemporalCommands } from './services/commands.js';
import { validationHook } from './validation.js';
import { presentService } from './services/present.js';
import { createServiceDetails } from './services/service-detail.js';
import { createListPages } from './services/list-items.js';

export type { ApiDependencies } from './context.js';

/** The command signer of COMMAND_SIGNING_KEY (main.ts resolves the development key before). */
function signerFromConfig(config: ApiDependencies['config']) {
  if (!config.COMMAND_SIGNING_KEY) {
    throw new Error('COMMAND_SIGNING_KEY is not set and no command signer was passed to createApp');
  }
  return createCommandSigner(config.COMMAND_SIGNING_KEY, {
    lifetimeSeconds: config.COMMAND_TOKEN_TTL_SECONDS,
  });
}

/** Fills in the dependencies a caller did not pass, from the configuration. */
function withDefaults(deps: ApiDependencies): Services {
  const { config } = deps;
  const environments = {
    // The URLs developers use; default the admin URLs (aidbox/config.ts).
    sandboxPublicUrl: config.SANDBOX_AIDBOX_PUBLIC_URL ?? config.SANDBOX_AIDBOX_URL,
    productionPublicUrl: config.PRODUCTION_AIDBOX_PUBLIC_URL ?? config.PRODUCTION_AIDBOX_URL,
    productionOrgbac: config.PRODUCTION_ORGBAC,
  };
  const commands =
    deps.commands ??
    createTemporalCommands(deps.temporal, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS,
      signer: deps.commandSigner ?? signerFromConfig(config),
      provisioningMaxRounds: config.PROVISIONING_MAX_ROUNDS,
      ...(deps.workflowRetry ? { retry: deps.workflowRetry } : {}),
    });
  return {
    config,
    db: deps.db,
    log: deps.log,
    commands: deps.metrics ? countingRefusals(commands, deps.metrics) : commands,
    secrets: deps.secrets,
    organizations:
      deps.organizations ?? (config.PRODUCTION_ORGBAC ? organizationsNotConfigured : noOrganizations),
    jwksFetcher:
      deps.jwksFetcher ??
      createJwksFetcher({
        mode: config.APP_MODE,
        resolver: systemResolver,
        limits: jwksFetchLimitsFromConfig(config),
      }),
    idempotency: deps.idempotency ?? createIdempotencyStore(deps.db),
    notificationSettings: createNotificationSettingsStore(deps.db, deps.keyring),
    resolver: deps.resolver ?? systemResolver,
    environments,
    listPage: createListPages((summary) => presentService(summary, environments), config.LIST_CACHE_ENTRIES),
    details: createServiceDetails(
      deps.db,
      (state) => presentService(state, environments),
      config.DETAIL_CACHE_ENTRIES,
      deps.serviceChanges,
    ),
    now: deps.now ?? (() => new Date()),
  };
}

/**
 * The JSON API (/v1, /docs, /healthz, /readyz): everything it talks to comes in `deps`, so tests
 * build the app in-process (`app.request(...)`) against their own issuer, database and task queue.
 * The process serves it together with the pages (api/compose.ts).
 */
export function createApp(deps: ApiDependencies): Hono<AppEnv> {
  const services = withDefaults(deps);
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  // First, so every answer is counted and timed, refusals and errors included.
  if (deps.metrics) app.use('*', deps.metrics.middleware);
  if (deps.tracing) app.use('*', tracingMiddleware());

  app.use('*', strictTransportSecurity(deps.config.PUBLIC_URL));
  // Before anything reads a body: the validators, the depth check, and the pages' CSRF check
  // (api/compose.ts mounts the pages on this app, after these).
  app.use('*', limitBodySize());

  registerHealthRoutes(app, deps);
  registerDocsRoutes(app);

  app.use('/v1/*', requireBearer(deps.verifier ?? createTokenVerifier([])));
  app.use('/v1/*', limitJsonDepth());
  registerOrganizationRoutes(app, services);
  registerServiceRoutes(app, services);
  registerCredentialRoutes(app, services);
  registerOwnerActionRoutes(app, services);
  registerNotificationRoutes(app, services);
  registerAdminRoutes(app, services);
  // Development only: the mail `npm start`'s catcher caught, for administrators.
  if (deps.config.APP_MODE === 'development') {
    app.use('/dev/*', requireBearer(deps.verifier ?? createTokenVerifier([])));
    registerDevMailRoute(app, services);
  }
  app.notFound(() => problemResponse(notFound('No such route.')));

  app.onError((error, c) => {
    const problem = toProblem(error);
    if (problem) {
      if (problem.status >= 500)
        deps.log.warn({ problem: problem.problem, detail: problem.message, path: c.req.path }, 'unavailable');
      return problemResponse(problem);
    }
    // Last resort for bugs: no stack, no internals, no echo of the request.
    deps.log.error(
      { err: { name: error.name, message: error.message }, path: c.req.path },
      'unhandled error',
    );
    return problemResponse(new ApiProblem('internal-error', 'An unexpected error occurred.'));
  });

  return app;
}

function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDependencies): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: [TAGS.platform],
      summary: 'The process is up',
      responses: {
        200: {
          description: 'Up',
          content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
        },
      },
    }),
    async (c) => c.json({ status: 'ok' as const }, 200),
  );

  const dependency = z.object({ ok: z.boolean(), reason: z.string().optional() });
  const readiness = z.object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({ postgres: dependency, temporal: dependency }),
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: [TAGS.platform],
      summary: 'Temporal and PostgreSQL are reachable (503 otherwise)',
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: readiness } } },
        503: {
          description: 'Not ready; Retry-After',
          content: { 'application/json': { schema: readiness } },
        },
      },
    }),
    async (c) => {
      const [postgres, temporal] = await Promise.all([checkPostgres(deps.db), checkTemporal(deps.temporal)]);
      const ready = postgres.ok && temporal.ok;
      const checks = { postgres, temporal };
      c.header('Cache-Control', 'no-store');
      if (ready) return c.json({ status: 'ready' as const, checks }, 200);
      deps.log.warn(checks, 'not ready');
      c.header('Retry-After', '5');
      return c.json({ status: 'unavailable' as const, checks }, 503);
    },
  );
}
