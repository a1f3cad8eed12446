import { describe, expect, it } from 'vitest';
import { parseScope, parseScopeList } from './parse.js';
import { supportedTypesFromCapabilityStatement } from './resource-types.js';

describe('parseScope: accepted scopes (docs/smart-rules.md, scopes)', () => {
  it.each([
    ['system/Patient.rs', 'v2', 'Patient', ['r', 's'], null],
    ['system/Patient.c', 'v2', 'Patient', ['c'], null],
    ['system/Observation.cruds', 'v2', 'Observation', ['c', 'r', 'u', 'd', 's'], null],
    ['system/*.s', 'v2', '*', ['s'], null],
    ['system/Patient.read', 'v1', 'Patient', ['r', 's'], 'read'],
    ['system/Claim.write', 'v1', 'Claim', ['c', 'u', 'd'], 'write'],
    ['system/*.*', 'v1', '*', ['c', 'r', 'u', 'd', 's'], '*'],
    ['system/*.read', 'v1', '*', ['r', 's'], 'read'],
  ] as const)('%s', (scope, version, resourceType, permissions, v1Permission) => {
    expect(parseScope(scope)).toEqual({
      ok: true,
      scope: { scope, version, resourceType, permissions: [...permissions], v1Permission },
    });
  });
});

describe('parseScope: every refusal and its message', () => {
  const cases: Array<[string, string, string]> = [
    [
      'system/Patient .rs',
      'malformed',
      'A scope is one token of printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3); separate scopes with single spaces.',
    ],
    [
      '',
      'malformed',
      'A scope is one token of printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3); separate scopes with single spaces.',
    ],
    [
      'system/Patient.r"s',
      'malformed',
      'A scope is one token of printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3); separate scopes with single spaces.',
    ],
    [
      'Patient.rs',
      'malformed',
      'Expected a SMART resource scope of the form system/<ResourceType|*>.<permissions>.',
    ],
    [
      'system/Patient',
      'malformed',
      'Expected system/<ResourceType|*>.<permissions>, e.g. system/Patient.rs.',
    ],
    [
      'admin/Patient.rs',
      'malformed',
      'Unknown scope context "admin/"; backend services use system/ scopes only.',
    ],
    [
      'openid',
      'openid-scope',
      '"openid" is an OpenID Connect scope; a backend service has no user to identify. Use system/ scopes only (SMART Backend Services).',
    ],
    [
      'fhirUser',
      'openid-scope',
      '"fhirUser" is an OpenID Connect scope; a backend service has no user to identify. Use system/ scopes only (SMART Backend Services).',
    ],
    [
      'profile',
      'openid-scope',
      '"profile" is an OpenID Connect scope; a backend service has no user to identify. Use system/ scopes only (SMART Backend Services).',
    ],
    [
      'offline_access',
      'token-lifetime-scope',
      '"offline_access" asks for a refresh token; backend services get none and request a new access token instead (SMART Backend Services).',
    ],
    [
      'online_access',
      'token-lifetime-scope',
      '"online_access" asks for a refresh token; backend services get none and request a new access token instead (SMART Backend Services).',
    ],
    [
      'launch',
      'launch-scope',
      '"launch" is a launch-context scope for apps launched by a user or an EHR; a backend service has no launch. Use system/ scopes only.',
    ],
    [
      'launch/patient',
      'launch-scope',
      '"launch/patient" is a launch-context scope for apps launched by a user or an EHR; a backend service has no launch. Use system/ scopes only.',
    ],
    [
      'patient/Observation.rs',
      'not-system-context',
      'patient/ scopes need a patient or user context that the client_credentials grant never has; backend services use system/ scopes only (SMART Backend Services; Aidbox rejects patient/ scopes for client_credentials).',
    ],
    [
      'user/*.read',
      'not-system-context',
      'user/ scopes need a patient or user context that the client_credentials grant never has; backend services use system/ scopes only (SMART Backend Services; Aidbox rejects user/ scopes for client_credentials).',
    ],
    [
      'system/Observation.rs?category=laboratory',
      'search-parameters',
      'system/ scopes with search parameters are not accepted: Aidbox rejects a token whose system/ scope carries search parameters (they are supported only for patient/ and user/ scopes). Register the scope without "?…".',
    ],
    [
      'system/Patient.rs?',
      'search-parameters',
      'system/ scopes with search parameters are not accepted: Aidbox rejects a token whose system/ scope carries search parameters (they are supported only for patient/ and user/ scopes). Register the scope without "?…".',
    ],
    [
      'system/Client.rs',
      'aidbox-system-type',
      'Client is an Aidbox system resource, not a FHIR resource; no scope can grant access to it.',
    ],
    [
      'system/AccessPolicy.read',
      'aidbox-system-type',
      'AccessPolicy is an Aidbox system resource, not a FHIR resource; no scope can grant access to it.',
    ],
    [
      'system/User.r',
      'aidbox-system-type',
      'User is an Aidbox system resource, not a FHIR resource; no scope can grant access to it.',
    ],
    [
      'system/Session.d',
      'aidbox-system-type',
      'Session is an Aidbox system resource, not a FHIR resource; no scope can grant access to it.',
    ],
    [
      'system/UnknownResource.read',
      'unsupported-resource-type',
      '"UnknownResource" is not a FHIR R4 resource type; use a resource type such as Patient, or *.',
    ],
    [
      'system/patient.rs',
      'unsupported-resource-type',
      '"patient" is not a FHIR R4 resource type (did you mean Patient?); use a resource type such as Patient, or *.',
    ],
    [
      'system/.rs',
      'unsupported-resource-type',
      '"" is not a FHIR R4 resource type; use a resource type such as Patient, or *.',
    ],
    [
      'system/Patient.',
      'empty-permissions',
      'The permissions after "." are empty; give at least one of c, r, u, d, s in that order (e.g. rs), or read, write or * in v1.',
    ],
    ...['sr', 'rr', 'dus', 'x', 'Read', 'READ', 'rs*', 'crudss', 'sc'].map((p): [string, string, string] => [
      `system/Patient.${p}`,
      'invalid-permissions',
      `Permissions "${p}" are not valid: v2 permissions are letters of c, r, u, d, s, each at most once and in that order (e.g. rs, cud, cruds); v1 permissions are read, write or *.`,
    ]),
  ];

  it.each(cases)('%j → %s', (scope, code, reason) => {
    expect(parseScope(scope)).toEqual({ ok: false, scope, code, reason });
  });

  it('refuses a FHIR type the CapabilityStatement does not list', () => {
    const supportedTypes = supportedTypesFromCapabilityStatement({
      resourceType: 'CapabilityStatement',
      rest: [
        { mode: 'server', resource: [{ type: 'Patient' }, { type: 'Observation' }, { type: 'Client' }] },
      ],
    });
    expect(supportedTypes.source).toBe('capability-statement');
    expect([...supportedTypes.types].sort()).toEqual(['Observation', 'Patient']);
    expect(parseScope('system/Patient.rs', { supportedTypes }).ok).toBe(true);
    expect(parseScope('system/*.rs', { supportedTypes }).ok).toBe(true);
    expect(parseScope('system/Encounter.rs', { supportedTypes })).toEqual({
      ok: false,
      scope: 'system/Encounter.rs',
      code: 'unsupported-resource-type',
      reason:
        'Encounter is a FHIR R4 resource type this server does not support (its CapabilityStatement does not list it).',
    });
  });

  it('falls back to the FHIR R4 list when the CapabilityStatement lists no types', () => {
    expect(supportedTypesFromCapabilityStatement({ resourceType: 'CapabilityStatement' }).source).toBe(
      'fhir-r4',
    );
    expect(supportedTypesFromCapabilityStatement(null).source).toBe('fhir-r4');
  });
});

describe('parseScopeList', () => {
  it('splits on spaces and reports each refusal (mixed v1 and v2 accepted, docs/smart-rules.md S2)', () => {
    const { scopes, refusals } = parseScopeList('system/Patient.rs  system/*.read openid patient/Patient.r');
    expect(scopes.map((s) => s.scope)).toEqual(['system/Patient.rs', 'system/*.read']);
    expect(refusals.map((r) => [r.scope, r.code])).toEqual([
      ['openid', 'openid-scope'],
      ['patient/Patient.r', 'not-system-context'],
    ]);
  });
});
