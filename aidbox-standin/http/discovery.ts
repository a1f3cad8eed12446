/**
 * Health and discovery documents (docs/aidbox-contract.md §5 and §6, §9.5).
 */
import { ASSERTION_ALGORITHMS } from '../auth/assertion.js';
import { CLINICAL_TYPES } from '../fhir/resource-types.js';

/** `GET /health` (section 6): RFC-style health JSON. */
export function healthDocument(startedAt: number): Record<string, unknown> {
  return {
    status: 'pass',
    description: 'Aidbox stand-in (not Aidbox)',
    about: { version: 'standin', channel: 'test', commit: 'standin' },
    checks: {
      uptime: [
        { observedValue: Math.round((Date.now() - startedAt) / 1000), observedUnit: 's', status: 'pass' },
      ],
    },
  };
}

/** `GET /.well-known/smart-configuration` (section 5). */
export function smartConfiguration(baseUrl: string): Record<string, unknown> {
  return {
    issuer: baseUrl,
    authorization_endpoint: `${baseUrl}/auth/authorize`,
    token_endpoint: `${baseUrl}/auth/token`,
    introspection_endpoint: `${baseUrl}/auth/introspect`,
    userinfo_endpoint: `${baseUrl}/auth/userinfo`,
    jwks_uri: `${baseUrl}/.well-known/jwks.json`,
    grant_types_supported: ['authorization_code', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    scopes_supported: ['system/*.cruds', 'system/*.read', 'system/*.write'],
    response_types_supported: ['code'],
    capabilities: [
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'permission-v1',
      'permission-v2',
    ],
    code_challenge_methods_supported: ['S256'],
  };
}

/** `GET /fhir/metadata` (section 5): a minimal CapabilityStatement with the oauth-uris extension. */
export function capabilityStatement(baseUrl: string, organizationId?: string): Record<string, unknown> {
  const fhirBase = organizationId ? `${baseUrl}/Organization/${organizationId}/fhir` : `${baseUrl}/fhir`;
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    implementation: { description: 'Aidbox stand-in', url: fhirBase },
    instantiates: ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' },
              ],
            },
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'SMART-on-FHIR',
                },
              ],
            },
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'Basic' },
              ],
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'token', valueUri: `${baseUrl}/auth/token` },
                { url: 'authorize', valueUri: `${baseUrl}/auth/authorize` },
              ],
            },
          ],
        },
        resource: CLINICAL_TYPES.map((type) => ({
          type,
          // Patient- and Group-level export are operations on those types (Bulk Data 2.0
          // CapabilityStatement, https://hl7.org/fhir/uv/bulkdata/STU2/CapabilityStatement-bulk-data.html).
          ...(type === 'Patient' || type === 'Group'
            ? {
                operation: [
                  {
                    name: 'export',
                    definition: `http://hl7.org/fhir/uv/bulkdata/OperationDefinition/${type.toLowerCase()}-export`,
                  },
                ],
              }
            : {}),
          interaction: [
            'read',
            'vread',
            'search-type',
            'create',
            'update',
            'patch',
            'delete',
            'history-instance',
          ].map((code) => ({ code })),
        })),
        operation: [
          { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
        ],
      },
    ],
  };
}
