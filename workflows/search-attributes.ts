import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { ServiceState } from './backend-service/service-state.js';

/**
 * The search attributes operators filter on in Temporal Web (docs/architecture.md, "Search attributes").
 * Registered on every server we start (dev server, tests, compose). No names or e-mails: the owner
 * is the OIDC `sub`.
 */
export const BackendServiceStatus = defineSearchAttributeKey(
  'BackendServiceStatus',
  SearchAttributeType.KEYWORD,
);
export const BackendServiceOwner = defineSearchAttributeKey(
  'BackendServiceOwner',
  SearchAttributeType.KEYWORD,
);
export const BackendServiceOrganization = defineSearchAttributeKey(
  'BackendServiceOrganization',
  SearchAttributeType.KEYWORD,
);
export const BackendServiceAuthMethod = defineSearchAttributeKey(
  'BackendServiceAuthMethod',
  SearchAttributeType.KEYWORD,
);
export const BackendServiceSubmittedAt = defineSearchAttributeKey(
  'BackendServiceSubmittedAt',
  SearchAttributeType.DATETIME,
);

/** `ok` or `failing` for a live JWKS service whose key set is watched; absent otherwise. */
export const BackendServiceCredentialHealth = defineSearchAttributeKey(
  'BackendServiceCredentialHealth',
  SearchAttributeType.KEYWORD,
);

export const SEARCH_ATTRIBUTES = [
  BackendServiceStatus,
  BackendServiceOwner,
  BackendServiceOrganization,
  BackendServiceAuthMethod,
  BackendServiceSubmittedAt,
  BackendServiceCredentialHealth,
] as const;

/** The type names the Temporal CLI and `temporal operator search-attribute create` take. */
export const SEARCH_ATTRIBUTE_CLI_TYPES: Record<(typeof SEARCH_ATTRIBUTES)[number]['name'], string> = {
  BackendServiceStatus: 'Keyword',
  BackendServiceOwner: 'Keyword',
  BackendServiceOrganization: 'Keyword',
  BackendServiceAuthMethod: 'Keyword',
  BackendServiceSubmittedAt: 'Datetime',
  BackendServiceCredentialHealth: 'Keyword',
};

/** What a service's search attributes are read from: its state, and the submission under review. */
export interface SearchAttributeSource {
  status: ServiceState['status'];
  ownerId: string;
  registration: Pick<ServiceState['registration'], 'organizationId' | 'authMethod'>;
  credentialHealth?: NonNullable<ServiceState['credentials']['health']>['state'];
  /** When the submission now under review (or the last one) was made. */
  submittedAt?: string;
}

/**
 * A service's search attributes, one rule for both writers: the API sets them when it starts the
 * workflow (an operator finds a new service by owner, Organization and status even before a
 * worker has run it), and the workflow upserts them as they change (visibility.ts).
 */
export function searchAttributesOf(source: SearchAttributeSource): SearchAttributePair[] {
  return [
    { key: BackendServiceStatus, value: source.status },
    { key: BackendServiceOwner, value: source.ownerId },
    { key: BackendServiceOrganization, value: source.registration.organizationId ?? 'none' },
    { key: BackendServiceAuthMethod, value: source.registration.authMethod.type },
    ...(source.credentialHealth
      ? [{ key: BackendServiceCredentialHealth, value: source.credentialHealth }]
      : []),
    ...(source.submittedAt ? [{ key: BackendServiceSubmittedAt, value: new Date(source.submittedAt) }] : []),
  ];
}
