import { ApplicationFailure } from '@temporalio/common';
import { checkJwksUri } from '../credentials/check-jwks.js';
import { createJwksFetcher, type JwksFetcherOptions } from '../credentials/jwks-fetch.js';
import type { JwksReport } from '../credentials/jwks-report.js';
import { UnknownSecretKey, SecretDecryptionFailed } from '../credentials/secret-crypto.js';
import { SecretCiphertextDeleted, SecretNotFound, type SecretStore } from '../credentials/secret-store.js';
import { sanitizeOutsideValue } from '../platform/text-rules.js';
import { recordJwksCheck } from './metrics.js';

/**
 * Credential activities. Nothing here returns, logs or throws a plaintext secret: results and
 * failures go into Temporal history, which operators read in the Web UI (docs/architecture.md, Secrets).
 */

export type AidboxConnection = 'sandbox' | 'production';

/** The slice of the Aidbox client these activities need (activities/index.ts adapts the real client). */
export interface AidboxSecretPort {
  /** Merge-patches `{ secret }` on Client/<clientId> in that environment's Aidbox (idempotent). */
  patchClientSecret(environment: AidboxConnection, clientId: string, secretPlaintext: string): Promise<void>;
}

export interface CredentialActivityDependencies {
  secretStore: SecretStore;
  jwksFetcher: JwksFetcherOptions;
  aidbox?: AidboxSecretPort;
}

export interface CredentialActivities {
  generateClientSecret(input: {
    serviceId: string;
    secretVersion?: number;
  }): Promise<{ secretVersion: number; fingerprint: string }>;
  checkJwks(input: {
    serviceId: string;
    jwksUri: string;
    previousThumbprints?: Record<string, string>;
  }): Promise<JwksReport>;
  provisionClientSecret(input: {
    serviceId: string;
    secretVersion: number;
    environments: AidboxConnection[];
  }): Promise<void>;
}

/** Failures that no retry can fix become non-retryable, with a type the workflow can branch on. */
function permanent(error: unknown): never {
  if (error instanceof SecretNotFound || error instanceof SecretCiphertextDeleted) {
    throw ApplicationFailure.nonRetryable(error.message, 'SecretUnavailable');
  }
  if (error instanceof UnknownSecretKey || error instanceof SecretDecryptionFailed) {
    throw ApplicationFailure.nonRetryable(error.message, 'SecretUnreadable');
  }
  throw error;
}

/** Removes the plaintext from an error's message and stack, keeping its type (and so its retry classification). */
function scrubbed(error: unknown, secret: string): unknown {
  if (error instanceof Error) {
    error.message = error.message.replaceAll(secret, '[redacted]');
    if (error.stack) error.stack = error.stack.replaceAll(secret, '[redacted]');
  }
  return error;
}

export function createCredentialActivities(deps: CredentialActivityDependencies): CredentialActivities {
  const fetchJwks = createJwksFetcher(deps.jwksFetcher);
  return {
    async generateClientSecret({ serviceId, secretVersion }) {
      // Only the version and fingerprint leave: the plaintext stays encrypted in PostgreSQL.
      const created = await deps.secretStore.create(
        serviceId,
        secretVersion === undefined ? {} : { secretVersion },
      );
      return { secretVersion: created.secretVersion, fingerprint: created.fingerprint };
    },

    async checkJwks({ jwksUri, previousThumbprints }) {
      // Everything the URI's owner controls ends up in the report, never as an activity failure, and
      // only through the outside-value gate: the workflow keeps this report and projects it to jsonb.
      const report = sanitizeOutsideValue(
        await checkJwksUri(fetchJwks, jwksUri, previousThumbprints ? { previousThumbprints } : {}),
      );
      recordJwksCheck(report.valid);
      return report;
    },

    async provisionClientSecret({ serviceId, secretVersion, environments }) {
      if (!deps.aidbox) {
        throw ApplicationFailure.nonRetryable(
          'no Aidbox client is configured for secret provisioning',
          'AidboxNotConfigured',
        );
      }
      let secret: string;
      try {
        secret = await deps.secretStore.readForProvisioning(serviceId, secretVersion);
      } catch (error) {
        permanent(error);
      }
      for (const environment of environments) {
        try {
          await deps.aidbox.patchClientSecret(environment, serviceId, secret);
        } catch (error) {
          // The port owns retry classification and must not echo request bodies; this is the net under it.
          throw scrubbed(error, secret);
        }
      }
    },
  };
}
