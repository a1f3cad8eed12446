import type { Client } from '@temporalio/client';
import type { Context } from 'hono';
import type { JwksFetcher } from '../credentials/jwks-fetch.js';
import type { SecretKeyring } from '../credentials/keyring.js';
import type { SecretStore } from '../credentials/secret-store.js';
import type { NotificationSettingsStore } from '../notifications/settings-store.js';
import type { Resolver } from '../platform/network.js';
import type { Db } from '../db/database.js';
import type { ApiConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { RetryTiming } from '../workflows/backend-service/retry-timing.js';
import type { AuthVariables } from './auth/middleware.js';
import type { CommandSigner } from './commands/signer.js';
import type { TokenVerifier } from './auth/verifier.js';
import type { IdempotencyStore } from './idempotency/store.js';
import type { ApiMetrics } from './metrics.js';
import type { OrganizationDirectory } from './organizations.js';
import type { BackendServiceCommands } from './services/commands.js';
import type { EnvironmentSettings, PresentedService } from './services/present.js';
import type { ServiceChangeFeed } from './services/service-changes.js';
import type { ServiceDetails } from './services/service-detail.js';
import type { createListPages } from './services/list-items.js';

/**
 * What the API needs from the process that hosts it. `createApp` builds the JSON API from these
 * (api/compose.ts adds the pages): main.ts passes the real ones, tests pass theirs (in-memory
 * issuer, fresh task queue, stubs).
 * Only config, db, temporal and log are required; the rest default from them.
 */
export interface ApiDependencies {
  config: ApiConfig;
  db: Db;
  temporal: Client;
  log: Logger;
  /** Bearer token verification; default: none trusted (every /v1 call answers 401). */
  verifier?: TokenVerifier;
  /** Default: the Temporal client with TEMPORAL_TASK_QUEUE and TEMPORAL_CALL_TIMEOUT_MS. */
  commands?: BackendServiceCommands;
  /** Signs every command sent to a workflow; default: COMMAND_SIGNING_KEY (required then). */
  commandSigner?: CommandSigner;
  /** Where create and rotate read the secret they reveal once; default: a 503 for the secret method. */
  secrets?: SecretStore;
  /** Default: empty when OrgBAC is off, 503 when on (no production Aidbox client wired). */
  organizations?: OrganizationDirectory;
  /** Fetches a registered JWKS for the assertion check; default: the credentials fetcher, system resolver. */
  jwksFetcher?: JwksFetcher;
  idempotency?: IdempotencyStore;
  /** Encrypts webhook signing secrets (SECRET_KEYS); without it a webhook URL is refused with 503. */
  keyring?: SecretKeyring;
  /** Resolves a webhook's host at registration (SSRF check); default: the system resolver. */
  resolver?: Resolver;
  /** Retry timings passed to new workflows (tests: fast rounds). */
  workflowRetry?: RetryTiming;
  now?: () => Date;
  /** Prometheus metrics (api/metrics.ts); without them nothing is counted. */
  metrics?: ApiMetrics;
  /** A server span per request (api/tracing.ts); on when the process started tracing. */
  tracing?: boolean;
  /**
   * The read model's change feed (api/services/service-changes.ts): while it is live a cached
   * detail is answered without a round trip; without it every detail reads the row's head.
   */
  serviceChanges?: ServiceChangeFeed;
}

/** Dependencies after defaults are applied, as handlers see them. */
export interface Services {
  config: ApiConfig;
  db: Db;
  log: Logger;
  commands: BackendServiceCommands;
  secrets: SecretStore | undefined;
  organizations: OrganizationDirectory;
  jwksFetcher: JwksFetcher;
  idempotency: IdempotencyStore;
  notificationSettings: NotificationSettingsStore;
  resolver: Resolver;
  environments: EnvironmentSettings;
  /** A list page as the list routes answer it, items presented once per row version (api/services/list-items.ts). */
  listPage: ReturnType<typeof createListPages<PresentedService>>;
  /** The detail route's reader (api/services/service-detail.ts); commands invalidate what they change. */
  details: ServiceDetails<PresentedService>;
  now: () => Date;
}

export interface AppEnv {
  Variables: AuthVariables;
}

export type AppContext = Context<AppEnv>;
