import { AidboxClient } from '../aidbox/client.js';
import { aidboxEnvironments } from '../aidbox/config.js';
import { jwksFetchLimitsFromConfig } from '../credentials/config.js';
import { keyringFromConfig } from '../credentials/keyring.js';
import { createSecretStore } from '../credentials/secret-store.js';
import type { ActivityDependencies } from '../activities/index.js';
import type { Db } from '../db/database.js';
import { checkNotificationConfig, type WorkerConfig } from '../platform/config.js';
import { smtpTransport } from '../notifications/mail.js';
import { createNotificationSettingsStore } from '../notifications/settings-store.js';
import { localhostOnlyResolver, systemResolver } from '../platform/network.js';

/** The worker's activity dependencies, from its configuration. */
export function activityDependenciesFromConfig(config: WorkerConfig, db: Db): ActivityDependencies {
  const environments = aidboxEnvironments(config);
  const keyring = keyringFromConfig(config, config.APP_MODE);
  const resolver = config.APP_MODE === 'development' ? localhostOnlyResolver : systemResolver;
  const { reviewers } = checkNotificationConfig(config);
  return {
    db,
    secretStore: createSecretStore(db, keyring),
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
    notifications: {
      transport: config.SMTP_URL ? smtpTransport(config.SMTP_URL, config.APP_MODE) : null,
      from: config.MAIL_FROM,
      reviewers,
      publicUrl: config.PUBLIC_URL,
      settings: createNotificationSettingsStore(db, keyring),
      // The JWKS fetcher's resolver rules: development knows localhost only (docs/architecture.md).
      webhook: { mode: config.APP_MODE, resolver },
      timing: {
        reviewReminderAfterSeconds: config.REVIEW_REMINDER_AFTER,
        reviewReminderEverySeconds: config.REVIEW_REMINDER_EVERY,
        stagedSecretNoticeSeconds: config.STAGED_SECRET_NOTICE,
        retryInitialSeconds: Math.min(10, config.NOTIFICATION_RETRY_MAX_INTERVAL),
        retryMaxSeconds: config.NOTIFICATION_RETRY_MAX_INTERVAL,
        attemptTimeoutSeconds: config.NOTIFICATION_ATTEMPT_TIMEOUT,
        giveUpAfterSeconds: config.NOTIFICATION_GIVE_UP_AFTER,
      },
    },
  };
}
