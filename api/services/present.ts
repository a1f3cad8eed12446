import type { ServiceSummary } from '../../db/service-summary.js';
import type { Rejection, ScopeRule } from '../../workflows/backend-service/service-state.js';

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
  /** The scope to request at the token endpoint: exactly what was registered. */
  scope: string;
  /** A Bulk Data kick-off URL with the `_type` the service's policies accept, or null without export. */
  bulkExportKickOffUrl: string | null;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * The types a kick-off may list: those with both read and search, as scopes/derive.ts grants export
 * (docs/aidbox-contract.md §2.4 step 7). `'*'` means every type, where `_type` may be left out.
 */
export function exportableTypes(rules: ReadonlyArray<ScopeRule>): string[] {
  return rules
    .filter((r) => r.operations.includes('read') && r.operations.includes('search'))
    .map((r) => r.resource)
    .sort();
}

export function environmentConstants(
  publicUrl: string,
  organizationId: string | null,
  scopes: { rules: ReadonlyArray<ScopeRule>; strings: ReadonlyArray<string> } = { rules: [], strings: [] },
): EnvironmentConstants {
  const root = trimSlash(publicUrl);
  // Under OrgBAC the FHIR API sits under the Organization; the token endpoint stays at the root
  // (docs/aidbox-contract.md §3).
  const fhirBaseUrl = organizationId
    ? `${root}/Organization/${encodeURIComponent(organizationId)}/fhir`
    : `${root}/fhir`;
  const types = exportableTypes(scopes.rules);
  // Without _type an export covers every type, which the derived policies refuse unless the scopes
  // read and search every type ('*'): the example always names the service's own types otherwise.
  const bulkExportKickOffUrl =
    types.length === 0
      ? null
      : types.includes('*')
        ? `${fhirBaseUrl}/$export`
        : `${fhirBaseUrl}/$export?_type=${types.join(',')}`;
  return {
    fhirBaseUrl,
    // Where a client following SMART App Launch 2.x looks: the FHIR base URL plus
    // /.well-known/smart-configuration (https://hl7.org/fhir/smart-app-launch/STU2.2/conformance.html).
    smartConfigurationUrl: `${fhirBaseUrl}/.well-known/smart-configuration`,
    tokenUrl: `${root}/auth/token`,
    capabilityStatementUrl: `${fhirBaseUrl}/metadata`,
    scope: scopes.strings.join(' '),
    bulkExportKickOffUrl,
  };
}

function sandboxReason(state: ServiceSummary): string | null {
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

/** A pending change is only ever declined: a deactivation or revocation drops the change instead. */
function declinedOnly(rejection: Rejection | null) {
  return rejection?.kind === 'declined' ? { ...rejection, kind: rejection.kind } : null;
}

/** Takes a list's summary or a detail's whole state (a summary too): the same item either way. */
export function presentService(state: ServiceSummary, settings: EnvironmentSettings) {
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
      health: state.credentials.health
        ? {
            state: state.credentials.health.state,
            since: state.credentials.health.since,
            lastCheckedAt: state.credentials.health.lastCheckedAt,
            nextCheckAt: state.credentials.health.nextCheckAt,
            failures: state.credentials.health.failures,
            summary: state.credentials.health.report?.summary ?? null,
            changes: state.credentials.health.changes,
          }
        : null,
    },
    environments: {
      sandbox:
        state.sandbox.revision !== null
          ? environmentConstants(settings.sandboxPublicUrl, null, registration.scopes)
          : null,
      sandboxReason: sandboxReason(state),
      production: live
        ? environmentConstants(settings.productionPublicUrl, productionOrganization, registration.scopes)
        : null,
    },
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    pendingChange: state.pendingChange
      ? {
          revision: state.pendingChange.revision,
          state: state.pendingChange.state,
          registration: {
            name: state.pendingChange.registration.name,
            description: state.pendingChange.registration.description,
            contactEmail: state.pendingChange.registration.contactEmail,
            authMethod: state.pendingChange.registration.authMethod,
            scopes: state.pendingChange.registration.scopes,
            organizationId: state.pendingChange.registration.organizationId,
          },
          credentialsState: state.pendingChange.credentials.state,
          jwksReport: state.pendingChange.credentials.jwksReport,
          submittedAt: state.pendingChange.submission?.submittedAt ?? null,
          rejection: declinedOnly(state.pendingChange.rejection),
        }
      : null,
    deletedAt: state.deletedAt ?? null,
    projectionError: state.projectionError ?? null,
  };
}

export type PresentedService = ReturnType<typeof presentService>;
