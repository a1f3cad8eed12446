/**
 * The Aidbox resources the registry writes, and builders for the two Client shapes of
 * docs/aidbox-contract.md §1: client secret (1.2) and SMART Backend Services with a JWKS URI (1.3),
 * with the optional OrgBAC tenant binding and UDAP B2B extension (1.4).
 */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const TENANT_EXTENSION_URL = 'https://aidbox.app/tenant-organization-id';
export const CLIENT_STATUS_EXTENSION_URL = 'http://aidbox.app/StructureDefinition/Client/status';
export const CLIENT_B2B_EXTENSION_URL =
  'http://health-samurai.io/fhir/core/StructureDefinition/client-hl7B2b';

export interface Extension {
  url: string;
  [key: string]: unknown;
}

export interface Meta {
  versionId?: string;
  lastUpdated?: string;
  extension?: Extension[];
  [key: string]: unknown;
}

export interface AidboxClientResource {
  resourceType: 'Client';
  id: string;
  active: boolean;
  type?: string;
  name?: string;
  description?: string;
  grant_types: string[];
  /** Plaintext only in what the registry sends; what Aidbox returns is the hash (section 1.1). */
  secret?: string;
  scope?: string[];
  jwks_uri?: string;
  jwks?: Array<Record<string, unknown>>;
  auth?: {
    client_credentials?: {
      client_assertion_types?: string[];
      token_format?: 'jwt';
      access_token_expiration?: number;
    };
  };
  extension?: Extension[];
  meta?: Meta;
  [key: string]: unknown;
}

export interface AccessPolicyResource {
  resourceType: 'AccessPolicy';
  id: string;
  description?: string;
  engine: 'allow' | 'matcho' | 'complex' | 'sql' | 'json-schema';
  link?: Array<{ reference: string }>;
  matcho?: Record<string, unknown>;
  and?: Array<Record<string, unknown>>;
  or?: Array<Record<string, unknown>>;
  meta?: Meta;
  [key: string]: unknown;
}

export interface OrganizationResource {
  resourceType: 'Organization';
  id: string;
  name?: string;
  active?: boolean;
  partOf?: { reference?: string };
  identifier?: Array<{ system?: string; value?: string }>;
  [key: string]: unknown;
}

export type ClientAuthentication = { method: 'client-secret' } | { method: 'jwks-uri'; jwksUri: string };

export interface ClientSpec {
  id: string;
  name?: string;
  description?: string;
  authentication: ClientAuthentication;
  /** Space-free scope strings, e.g. `system/Patient.rs` (never query-bearing ones, section 2.4 step 6). */
  scopes: string[];
  active: boolean;
  /** Seconds; the backend-services examples use 300 (section 1.1). */
  accessTokenExpiration?: number;
  /** `smart-app` (default) makes Aidbox add `atv`/`scope` to tokens and enforce scopes (section 2.5). */
  type?: string;
  /** OrgBAC tenant binding (section 1.4). */
  organizationId?: string;
  /** Payerbox portal status bookkeeping (section 7.4). */
  status?: 'draft' | 'review' | 'active' | 'rejected';
  /** UDAP B2B claim in tokens (section 1.1). */
  b2b?: { organizationId: string; organizationIdentifierSystem?: string };
}

/** Builds the Client of section 1.2 (secret) or 1.3 (private_key_jwt); the secret itself is never part of it. */
export function buildClientResource(spec: ClientSpec): AidboxClientResource {
  const clientCredentials: NonNullable<AidboxClientResource['auth']>['client_credentials'] = {
    token_format: 'jwt',
    access_token_expiration: spec.accessTokenExpiration ?? 300,
  };
  const client: AidboxClientResource = {
    resourceType: 'Client',
    id: spec.id,
    active: spec.active,
    type: spec.type ?? 'smart-app',
    grant_types: ['client_credentials'],
    scope: [...spec.scopes],
    auth: { client_credentials: clientCredentials },
  };
  if (spec.name !== undefined) client.name = spec.name;
  if (spec.description !== undefined) client.description = spec.description;
  if (spec.authentication.method === 'jwks-uri') {
    client.jwks_uri = spec.authentication.jwksUri;
    clientCredentials.client_assertion_types = [JWT_BEARER_ASSERTION];
  }
  const metaExtensions: Extension[] = [];
  if (spec.organizationId !== undefined) {
    metaExtensions.push({
      url: TENANT_EXTENSION_URL,
      valueReference: { reference: `Organization/${spec.organizationId}` },
    });
  }
  if (spec.status !== undefined)
    metaExtensions.push({ url: CLIENT_STATUS_EXTENSION_URL, valueCode: spec.status });
  if (metaExtensions.length > 0) client.meta = { extension: metaExtensions };
  if (spec.b2b !== undefined) {
    const parts: Extension[] = [
      { url: 'organization', valueReference: { reference: `Organization/${spec.b2b.organizationId}` } },
    ];
    if (spec.b2b.organizationIdentifierSystem)
      parts.push({ url: 'organizationIdentifierSystem', valueUri: spec.b2b.organizationIdentifierSystem });
    client.extension = [{ url: CLIENT_B2B_EXTENSION_URL, extension: parts }];
  }
  return client;
}
