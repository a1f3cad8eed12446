import type { AidboxClient } from '../aidbox/client.js';
import type { JwksFetcherOptions } from '../credentials/jwks-fetch.js';
import type { SecretStore } from '../credentials/secret-store.js';
import type { Db } from '../db/database.js';
import type { Environment } from '../workflows/backend-service/service-state.js';
import type { BackendServiceActivities } from './backend-service-contract.js';
import { createCredentialActivities } from './credentials.js';
import { failPermanentDatabaseErrors } from './database-failures.js';
import { createNotificationActivities, type NotificationDependencies } from './notifications.js';
import { createProjectionActivities } from './projection.js';
import { aidboxFailure, createProvisioningActivities } from './provisioning.js';
import { createScopeActivities } from './scopes.js';

/** What activities need from the process that hosts them (the worker); tests pass their own. */
export interface ActivityDependencies {
  db: Db;
  secretStore: SecretStore;
  jwksFetcher: JwksFetcherOptions;
  aidbox: Record<Environment, AidboxClient>;
  orgbac: Record<Environment, boolean>;
  /** When live JWKS services are re-checked (seconds); defaults: daily, and hourly after a failure. */
  credentialHealth?: { intervalSeconds: number; retrySeconds: number };
  /** SMTP, reviewers, links, preferences and webhooks; without them notifications are skipped, not failed. */
  notifications?: NotificationDependencies;
}

/** Activities the workflow runs as local activities (no history event of their own, only a marker). */
export const LOCAL_ACTIVITY_TYPES = ['credentialHealthTiming', 'notificationTiming'] as const;

/** The longest wait between two checks of a failing key set (the retry doubles up to it). */
export const MAX_HEALTH_RETRY_SECONDS = 21_600;

export function createActivities(deps: ActivityDependencies) {
  const credentials = createCredentialActivities({
    secretStore: deps.secretStore,
    jwksFetcher: deps.jwksFetcher,
    aidbox: {
      async patchClientSecret(environment, clientId, secret) {
        try {
          await deps.aidbox[environment].rotateSecret(clientId, secret);
          // Aidbox keeps one secret per Client, so the old one stops at once; its tokens would not:
          // the sessions issued before the switch are revoked (docs/aidbox-contract.md, section 8 call 4c).
          await deps.aidbox[environment].revokeSessions(clientId);
        } catch (error) {
          throw aidboxFailure(error, environment);
        }
      },
    },
  });
  const activities = {
    ...createProjectionActivities(deps.db),
    ...createScopeActivities(),
    ...createProvisioningActivities(deps),
    ...credentials,
    ...createNotificationActivities(deps.notifications),
    async settleSecrets({ serviceId, secretVersion }) {
      await deps.secretStore.deleteIfDone(serviceId, secretVersion);
    },
    async forgetSecrets({ serviceId }) {
      await deps.secretStore.deleteAll(serviceId);
    },
    /** A local activity: the worker's configured timing, so running workflows follow a change of it. */
    async credentialHealthTiming() {
      return {
        intervalSeconds: deps.credentialHealth?.intervalSeconds ?? 86_400,
        retrySeconds: deps.credentialHealth?.retrySeconds ?? 3_600,
        maxRetrySeconds: MAX_HEALTH_RETRY_SECONDS,
      };
    },
    async forgetSecretVersion({ serviceId, secretVersion }) {
      await deps.secretStore.deleteVersion(serviceId, secretVersion);
    },
  } satisfies BackendServiceActivities & Record<string, unknown>;
  return failPermanentDatabaseErrors(activities);
}

export type Activities = ReturnType<typeof createActivities>;
