import { serve } from '@hono/node-server';
import { AidboxClient } from '../aidbox/client.js';
import { keyringFromConfig } from '../credentials/keyring.js';
import { createSecretStore } from '../credentials/secret-store.js';
import { createDb } from '../db/database.js';
import { createSessionStore } from '../db/session-store.js';
import {
  apiSchema,
  checkAuthConfig,
  ConfigError,
  loadConfigOrExit,
  type ApiConfig,
} from '../platform/config.js';
import { exitWithParent } from '../platform/exit-with-parent.js';
import { createLogger } from '../platform/logger.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import { startTracing } from '../platform/tracing.js';
import { composeApp } from './compose.js';
import { createIdempotencyStore } from './idempotency/store.js';
import { listenForServiceChanges } from './services/service-changes.js';
import { createApiMetrics } from './metrics.js';
import { startMetricsServer } from '../platform/metrics-server.js';
import { identityFromConfig } from './auth/from-config.js';
import { createCommandSigner } from './commands/signer.js';
import { commandSigningKeyFromConfig } from '../platform/command-keys.js';
import { aidboxOrganizationDirectory, noOrganizations, type OrganizationDirectory } from './organizations.js';

const config = loadConfigOrExit(apiSchema);
// First, so the instrumentation is in place before anything makes a request.
const tracing = await startTracing(config, 'backend-services-api');
const log = createLogger('api', config.LOG_LEVEL);
if (tracing) log.info({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing on');

function exitOnConfigError<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

async function exitOnConfigErrorAsync<T>(make: () => Promise<T>): Promise<T> {
  try {
    return await make();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** Production Organizations when OrgBAC is on and its admin credentials are configured; else none or a 503. */
function organizationsFrom(cfg: ApiConfig): OrganizationDirectory | undefined {
  if (!cfg.PRODUCTION_ORGBAC) return noOrganizations;
  if (!cfg.PRODUCTION_AIDBOX_CLIENT_SECRET) return undefined;
  return aidboxOrganizationDirectory(
    new AidboxClient({
      name: 'production',
      baseUrl: cfg.PRODUCTION_AIDBOX_URL,
      clientId: cfg.PRODUCTION_AIDBOX_CLIENT_ID,
      clientSecret: cfg.PRODUCTION_AIDBOX_CLIENT_SECRET,
      orgbac: true,
    }),
  );
}

exitOnConfigError(() => checkAuthConfig(config));
const keyring = exitOnConfigError(() => keyringFromConfig(config, config.APP_MODE));
const commandSigningKey = await exitOnConfigErrorAsync(() => commandSigningKeyFromConfig(config));
const { verifier, developmentIssuer } = await identityFromConfig(config);
const db = createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
const temporal = createTemporalClient(config, { interceptors: tracing?.clientInterceptors ?? [] });
const organizations = organizationsFrom(config);
const metrics = createApiMetrics({ db, log });
const idempotency = createIdempotencyStore(db);
// Keeps the detail cache current; the API serves without it (details then read the row's head).
const serviceChanges = listenForServiceChanges(config.DATABASE_URL, { log });
const app = composeApp({
  metrics,
  tracing: tracing !== null,
  config,
  db,
  temporal,
  log,
  verifier,
  commandSigner: createCommandSigner(commandSigningKey, {
    lifetimeSeconds: config.COMMAND_TOKEN_TTL_SECONDS,
  }),
  secrets: createSecretStore(db, keyring),
  keyring,
  uiSessions: createSessionStore(db),
  idempotency,
  serviceChanges,
  ...(organizations ? { organizations } : {}),
});
// Idempotency records answer retries for 24 h; after that they are only rows: purge them hourly
// (every API process does; the delete is idempotent and indexed on expires_at).
const purge = setInterval(() => {
  idempotency
    .purgeExpired()
    .then((purged) => purged > 0 && log.info({ purged }, 'expired idempotency records purged'))
    .catch((error: unknown) =>
      log.warn({ err: error }, 'purging idempotency records failed; retried in an hour'),
    );
}, 3_600_000);
purge.unref();

const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  log.info(
    { url: `http://${info.address}:${info.port}`, developmentIssuer: developmentIssuer !== null },
    developmentIssuer
      ? 'api listening (development issuer on: npm run -s dev:token -- <subject> <roles>)'
      : 'api listening',
  );
});
// Metrics on their own listener (METRICS_HOST, loopback by default), never on the public port.
const metricsServer = await startMetricsServer(metrics, {
  host: config.METRICS_HOST,
  port: config.API_METRICS_PORT,
}).catch((error: NodeJS.ErrnoException) => {
  log.fatal(
    error.code === 'EADDRINUSE'
      ? `port ${config.API_METRICS_PORT} is busy: stop what uses it or set API_METRICS_PORT (0 turns metrics off)`
      : `metrics listener failed: ${error.message}`,
  );
  process.exit(1);
});
if (metricsServer) log.info({ url: metricsServer.url }, 'api metrics listening');
server.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') log.fatal(`port ${config.PORT} is busy: stop what uses it or set PORT`);
  else log.fatal({ err: error }, 'api server failed');
  process.exit(1);
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close();
  await metricsServer?.close();
  await temporal.connection.close().catch(() => undefined);
  await serviceChanges.close();
  await db.destroy();
  await tracing?.shutdown().catch(() => undefined);
  process.exit(0);
}
exitWithParent(() => void shutdown());
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
