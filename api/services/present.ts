import type { ProjectedState, ServiceState } from '../../workflows/backend-service/types.js';

/**
 * The service as docs/api.md "The service" shows it: registration, status, credentials (never a secret),
 * and the environment constants a developer needs to call Aidbox.
 */
export interface EnvironmentSettings {
  sandboxPublicUrl: string;
  productionPublicUrl: string;
  productionOrgbac: boolean;
}

export interface EnvironmentConstants {
  fhirBaseUrl: string;
  smartConfigurationUrl: string;
  tokenUrl: string;
  capabilityStatementUrl: string;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

export function environmentConstants(publicUrl: string, organizationId: string | null): EnvironmentConstants {
  const root = trimSlash(publicUrl);
  // Under OrgBAC the FHIR API sits under the Organization; token and SMART configuration stay at the root
  // (docs/aidbox-contract.md §3).
  const fhirBaseUrl = organizationId
    ? `${root}/Organization/${encodeURIComponent(organizationId)}/fhir`
    : `${root}/fhir`;
  return {
    fhirBaseUrl,
    smartConfigurationUrl: `${root}/.well-known/smart-configuration`,
    tokenUrl: `${root}/auth/token`,
    capabilityStatementUrl: `${fhirBaseUrl}/metadata`,
  };
}

function sandboxReason(state: ServiceState): string | null {
  if (state.sandbox.revision !== null) return null;
  if (state.deletedAt) return 'The service was deleted.';
  if (state.status === 'rejected' && state.rejection?.kind === 'deactivated')
    return 'The service is deactivated.';
  if (state.status === 'rejected' && state.rejection?.kind === 'revoked-by-owner')
    return 'The service was revoked by its owner.';
  if (state.credentials.state === 'pending')
    return 'The credentials are being checked; the sandbox client follows.';
  if (state.credentials.state === 'invalid')
    return 'The JWKS does not pass validation (see the JWKS report); fix it to get a sandbox client.';
  if (state.sandbox.state === 'failed') {
    const error = state.sandbox.lastError;
    return `Provisioning the sandbox client failed${error ? ` (${error.kind}${error.status ? ` ${error.status}` : ''})` : ''}; it is retried.`;
  }
  return 'The sandbox client is being provisioned.';
}

export function presentService(state: ProjectedState, settings: EnvironmentSettings) {
  const registration = state.registration;
  const live = state.status === 'active' && state.productionProvisioned;
  const productionOrganization = settings.productionOrgbac ? registration.organizationId : null;
  return {
    id: state.serviceId,
    clientId: state.serviceId,
    ownerId: state.ownerId,
    organizationId: registration.organizationId,
    name: registration.name,
    description: registration.description,
    contactEmail: registration.contactEmail,
    authMethod: registration.authMethod,
    scopes: {
      version: registration.scopes.version,
      rules: registration.scopes.rules,
      strings: registration.scopes.strings,
    },
    status: state.status,
    rejection: state.rejection,
    approval: state.approval
      ? {
          state: state.approval.state,
          revision: state.approval.revision,
          policyHash: state.approval.policyHash,
          by: state.approval.by,
          at: state.approval.at,
          attempts: state.approval.attempts,
          lastError: state.approval.lastError,
        }
      : null,
    revision: state.revision,
    credentials: {
      state: state.credentials.state,
      checkedAt: state.credentials.checkedAt,
      secret: state.credentials.secret,
      stagedSecret: state.credentials.stagedSecret ?? null,
    },
    environments: {
      sandbox: state.sandbox.revision !== null ? environmentConstants(settings.sandboxPublicUrl, null) : null,
      sandboxReason: sandboxReason(state),
      production: live ? environmentConstants(settings.productionPublicUrl, productionOrganization) : null,
    },
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    deletedAt: state.deletedAt ?? null,
    projectionError: state.projectionError ?? null,
  };
}

export type PresentedService = ReturnType<typeof presentService>;
