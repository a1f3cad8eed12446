import { AidboxClient } from '../aidbox/client.js';
import { aidboxEnvironments } from '../aidbox/config.js';
import { jwksFetchLimitsFromConfig } from '../credentials/config.js';
import { keyringFromConfig } from '../credentials/keyring.js';
import { createSecretStore } from '../credentials/secret-store.js';
import type { ActivityDependencies } from '../activities/index.js';
import type { Db } from '../db/database.js';
import type { WorkerConfig } from '../platform/config.js';
import { localhostOnlyResolver, systemResolver } from '../platform/network.js';

/** The worker's activity dependencies, from its configuration. */
export function activityDependenciesFromConfig(config: WorkerConfig, db: Db): ActivityDependencies {
  const environments = aidboxEnvironments(config);
  return {
    db,
    secretStore: createSecretStore(db, keyringFromConfig(config, config.APP_MODE)),
    jwksFetcher: {
      mode: config.APP_MODE,
      // Development mode exempts only `localhost` from the JWKS address rules (docs/architecture.md), so a
      // resolver that knows nothing else is all it needs; production resolves through the system.
      resolver: config.APP_MODE === 'development' ? localhostOnlyResolver : systemResolver,
      limits: jwksFetchLimitsFromConfig(config),
    },
    aidbox: {
      sandbox: new AidboxClient(environments.sandbox),
      production: new AidboxClient(environments.production),
    },
    orgbac: {
      sandbox: environments.sandbox.orgbac ?? false,
      production: environments.production.orgbac ?? false,
    },
    credentialHealth: {
      intervalSeconds: config.JWKS_HEALTH_INTERVAL_SECONDS,
      retrySeconds: config.JWKS_HEALTH_RETRY_SECONDS,
    },
  };
}
