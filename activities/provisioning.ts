import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  AidboxError,
  buildClientResource,
  type AidboxClient,
  type AccessPolicyResource,
} from '../aidbox/client.js';
import { SecretCiphertextDeleted, SecretNotFound, type SecretStore } from '../credentials/secret-store.js';
import type { Environment, Registration } from '../workflows/backend-service/service-state.js';
import { ScopeDerivationError, derivePolicies } from '../scopes/derive.js';
import type { BackendServiceActivities } from './backend-service-contract.js';
import { recordProvisioningFailure, recordProvisioningRound } from './metrics.js';

/**
 * Aidbox provisioning activities. Each is idempotent (deterministic IDs, create-or-merge-patch,
 * PUT upserts, DELETE 404/410 as done), so a retry or a worker killed mid-call creates no duplicate
 * (docs/architecture.md, "Activities touching Aidbox").
 */
export interface ProvisioningDependencies {
  aidbox: Record<Environment, AidboxClient>;
  /** Whether each environment runs OrgBAC (production in Payerbox; docs/aidbox-contract.md §3). */
  orgbac: Record<Environment, boolean>;
  secretStore: SecretStore;
}

type ProvisioningActivities = Pick<
  BackendServiceActivities,
  'upsertClient' | 'applyPolicies' | 'setClientActive' | 'disableClient' | 'removeClient'
>;

/**
 * Turns an Aidbox error into the failure Temporal records: retryable or not as the error class
 * says, typed, with status, environment and attempt as details (status and kind only: never a
 * response body). Retry-After becomes the next retry delay.
 */
export function aidboxFailure(error: unknown, environment: Environment): unknown {
  if (!(error instanceof AidboxError)) return error;
  const attempt = Context.current().info.attempt;
  const type = error.retryable ? 'AidboxUnavailable' : 'AidboxRefused';
  recordProvisioningFailure(environment, type);
  return ApplicationFailure.create({
    type,
    message: `${environment} Aidbox: ${error.method} ${error.path} ${error.status ? `answered ${error.status}` : 'failed to connect'}`,
    nonRetryable: !error.retryable,
    details: [{ status: error.status ?? null, environment, attempt }],
    ...(error.retryAfterMs !== undefined ? { nextRetryDelay: error.retryAfterMs } : {}),
  });
}

async function inEnvironment<T>(environment: Environment, run: () => Promise<T>): Promise<T> {
  recordProvisioningRound(environment);
  try {
    return await run();
  } catch (error) {
    throw aidboxFailure(error, environment);
  }
}

/**
 * The policies for a client, derived from its scopes; when a hash was approved, only if the
 * derivation still yields exactly that set (a change of the mapping after review must not reach
 * production unreviewed: the approval fails and is made again on the new review).
 */
function approvedPolicies(
  clientId: string,
  input: { derive: { scopes: string[]; organizationId: string | null }; policyHash?: string },
): AccessPolicyResource[] {
  let derived;
  try {
    derived = derivePolicies({ clientId, ...input.derive });
  } catch (error) {
    if (error instanceof ScopeDerivationError)
      throw ApplicationFailure.nonRetryable(error.message, 'ScopeDerivationError');
    throw error;
  }
  if (input.policyHash !== undefined && derived.policyHash !== input.policyHash) {
    throw ApplicationFailure.create({
      type: 'PolicyHashMismatch',
      message: `the policies derived now (hash ${derived.policyHash.slice(0, 12)}…) are not the ones approved (${input.policyHash.slice(0, 12)}…); review again`,
      nonRetryable: true,
      details: [{ status: null, environment: 'production' }],
    });
  }
  return derived.policies as AccessPolicyResource[];
}

export function createProvisioningActivities(deps: ProvisioningDependencies): ProvisioningActivities {
  /** A secret whose stored copy is gone cannot come back by retrying: only a rotation helps. */
  const readSecret = async (serviceId: string, secretVersion: number) => {
    try {
      return await deps.secretStore.readForProvisioning(serviceId, secretVersion);
    } catch (error) {
      if (error instanceof SecretCiphertextDeleted || error instanceof SecretNotFound) {
        throw ApplicationFailure.nonRetryable(error.message, 'SecretUnavailable');
      }
      throw error;
    }
  };

  const clientSpec = (
    environment: Environment,
    serviceId: string,
    registration: Registration,
    active: boolean,
  ) =>
    buildClientResource({
      id: serviceId,
      name: registration.name,
      description: registration.description,
      authentication:
        registration.authMethod.type === 'jwks_uri'
          ? { method: 'jwks-uri', jwksUri: registration.authMethod.jwksUri }
          : { method: 'client-secret' },
      scopes: registration.scopes.strings,
      active,
      ...(deps.orgbac[environment] && registration.organizationId
        ? { organizationId: registration.organizationId }
        : {}),
    });

  return {
    async upsertClient({ environment, serviceId, registration, secretVersion, active }) {
      const aidbox = deps.aidbox[environment];
      await inEnvironment(environment, async () => {
        // The plaintext is read only to create the Client (Aidbox keeps one hashed secret); an
        // existing Client is merge-patched and keeps its secret (rotation has its own activity).
        const needsSecret = registration.authMethod.type === 'client_secret' && secretVersion !== null;
        await aidbox.upsertClient(
          clientSpec(environment, serviceId, registration, active),
          needsSecret ? { secretForNewClient: () => readSecret(serviceId, secretVersion) } : {},
        );
      });
    },

    async applyPolicies(input) {
      const { environment, clientId, keepOthers } = input;
      const aidbox = deps.aidbox[environment];
      const policies = 'policies' in input ? input.policies : approvedPolicies(clientId, input);
      await inEnvironment(environment, async () => {
        for (const policy of policies) await aidbox.upsertAccessPolicy(policy as AccessPolicyResource);
        if (keepOthers) return;
        // Policies derived for an earlier revision that the new set no longer has.
        const wanted = new Set(policies.map((p) => p.id));
        for (const existing of await aidbox.listAccessPoliciesForClient(clientId)) {
          if (!wanted.has(existing.id)) await aidbox.deleteAccessPolicy(existing.id);
        }
      });
    },

    async setClientActive({ environment, clientId, active }) {
      await inEnvironment(environment, () => deps.aidbox[environment].patchClient(clientId, { active }));
    },

    async disableClient({ environment, clientId }) {
      await inEnvironment(environment, () => deps.aidbox[environment].disableClient(clientId));
    },

    async removeClient({ environment, clientId }) {
      await inEnvironment(environment, () => deps.aidbox[environment].deleteClient(clientId));
    },
  };
}
