import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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
