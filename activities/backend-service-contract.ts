import type { JwksReport } from '../credentials/jwks-report.js';
import type { AccessPolicy as AccessPolicyResource, DerivedPolicySet } from '../scopes/derive.js';
import type {
  Environment,
  HistoryEntry,
  ProjectionOutcome,
  Registration,
  ServiceState,
} from '../workflows/backend-service/service-state.js';
import type {
  NotificationInput,
  NotificationOutcome,
  NotificationTiming,
} from '../workflows/backend-service/notification-types.js';

/**
 * Every activity the Backend Service workflow calls, by signature. The workflow imports this type
 * only; the worker registers implementations that satisfy it (activities/index.ts). Inputs and
 * results are plain JSON and carry no secret.
 */
export interface BackendServiceActivities {
  // Credentials (credentials/).
  /** Idempotent per version: a retried attempt for the same version creates nothing new. */
  generateClientSecret(input: {
    serviceId: string;
    secretVersion: number;
  }): Promise<{ secretVersion: number; fingerprint: string }>;
  checkJwks(input: {
    serviceId: string;
    jwksUri: string;
    previousThumbprints?: Record<string, string>;
  }): Promise<JwksReport>;
  /**
   * Merge-patches the stored secret version onto the Client in each listed Aidbox, then revokes that
   * client's sessions there: tokens issued under the old secret stop working with it.
   */
  provisionClientSecret(input: {
    serviceId: string;
    secretVersion: number;
    environments: Environment[];
  }): Promise<void>;
  /** Production has the secret: delete the ciphertext of `secretVersion` if it was revealed, and of every older version. */
  settleSecrets(input: { serviceId: string; secretVersion: number }): Promise<void>;
  /** Deactivation: every stored ciphertext of the service goes. */
  forgetSecrets(input: { serviceId: string }): Promise<void>;
  /** Run as a local activity: when live JWKS services are re-checked, from the worker's configuration. */
  credentialHealthTiming(): Promise<{
    intervalSeconds: number;
    retrySeconds: number;
    maxRetrySeconds: number;
  }>;
  /** A dropped staged secret: that version's ciphertext goes (its number is never reused). */
  forgetSecretVersion(input: { serviceId: string; secretVersion: number }): Promise<void>;

  // Scopes (scopes/).
  derivePolicies(input: {
    clientId: string;
    scopes: string[];
    organizationId: string | null;
  }): Promise<DerivedPolicySet>;

  // Aidbox provisioning (activities/provisioning.ts).
  upsertClient(input: {
    environment: Environment;
    serviceId: string;
    registration: Registration;
    secretVersion: number | null;
    active: boolean;
  }): Promise<void>;
  /**
   * Upserts `policies`, then removes the client's other derived policies, unless `keepOthers` (a live
   * change adds its policies before the Client changes and removes the stale ones after).
   */
  applyPolicies(
    input: {
      environment: Environment;
      clientId: string;
      keepOthers?: boolean;
    } & (
      | { policies: AccessPolicyResource[] }
      /**
       * Derived here from the scopes (so the policies never travel through history); with
       * `policyHash`, what was approved: a derivation that no longer yields it is refused.
       */
      | { derive: { scopes: string[]; organizationId: string | null }; policyHash?: string }
    ),
  ): Promise<void>;
  setClientActive(input: { environment: Environment; clientId: string; active: boolean }): Promise<void>;
  /** Production at deactivation: active false, derived policies removed, sessions revoked. */
  disableClient(input: { environment: Environment; clientId: string }): Promise<void>;
  /** Sandbox at deactivation: policies, sessions and the client removed. */
  removeClient(input: { environment: Environment; clientId: string }): Promise<void>;

  // Notifications (activities/notifications.ts): started after a transition, never awaited by a job.
  /** E-mail through SMTP; Message-ID is the key, so a retried delivery is a duplicate receivers drop. */
  sendNotificationMail(input: NotificationInput): Promise<NotificationOutcome>;
  /** The owner's webhook, if set (Standard Webhooks signature); `webhook-id` is the key. */
  deliverNotificationWebhook(input: NotificationInput): Promise<NotificationOutcome>;
  /** Run as a local activity: reminder and retry timing from the worker's configuration. */
  notificationTiming(): Promise<NotificationTiming>;

  // Read model (activities/projection.ts).
  /** Answers `projectionError` when PostgreSQL refused the state for good and a sanitised copy was written. */
  projectService(input: {
    state: ServiceState;
    history: HistoryEntry | null;
    /** The workflow's history length when its task started: orders retried attempts of one version. */
    seq?: number;
  }): Promise<ProjectionOutcome>;
}
