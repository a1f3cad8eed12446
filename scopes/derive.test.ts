import { describe, expect, it } from 'vitest';
import type { AccessPolicy } from './derive.js';
import { ScopeDerivationError, derivePolicies, staleAccessPolicyIds } from './derive.js';
import {
  AIDBOX_SYSTEM_RESOURCE_TYPES,
  FHIR_R4_RESOURCE_TYPES,
  WILDCARD_EXCLUDED_FHIR_TYPES,
} from './resource-types.js';
import { canonicalJson } from './canonical-json.js';
import { parseScope } from './parse.js';

const longestClientId = `bs-${'z9'.repeat(16)}`;

function enumOf(policy: AccessPolicy, ...path: string[]): unknown[] {
  let node: unknown = policy.matcho;
  for (const key of path) node = (node as Record<string, unknown>)[key];
  return (node as { $enum: unknown[] }).$enum;
}

describe('derivePolicies (docs/aidbox-contract.md 2.4)', () => {
  it('links every policy to the client and matches client.id and active: true, uri anchored to /fhir/', () => {
    const { policies } = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Patient.rs', 'system/Claim.cu'],
      organizationId: null,
    });
    expect(policies.map((p) => p.id)).toEqual([
      'bs-acme--fhir-cu',
      'bs-acme--fhir-rs',
      'bs-acme--export',
      'bs-acme--export-status',
    ]);
    for (const policy of policies) {
      expect(policy.link).toEqual([{ reference: 'Client/bs-acme' }]);
      expect(policy.engine).toBe('matcho');
      expect(policy.matcho.client).toEqual({ id: 'bs-acme', active: true });
      expect(String(policy.matcho.uri)).toMatch(/^#\^\/fhir\//);
    }
  });

  it('REST policies name their types in uri too; export policies their exact paths', () => {
    const { policies } = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Patient.rs', 'system/Group.r'],
      organizationId: null,
    });
    expect(policies.map((p) => [p.id, p.matcho.uri])).toEqual([
      ['bs-acme--fhir-r', '#^/fhir/(?:Group)(?:/|$)'],
      ['bs-acme--fhir-rs', '#^/fhir/(?:Patient)(?:/|$)'],
      ['bs-acme--export', '#^/fhir/(?:\\$export|Patient/\\$export|Group/[^/]+/\\$export)$'],
      ['bs-acme--export-status', '#^/fhir/\\$export-status/[^/]+$'],
    ]);
  });

  it('write never implies read: cu grants create and update ids only, on the named types only', () => {
    const { policies, notes } = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Claim.cu'],
      organizationId: null,
    });
    expect(policies).toHaveLength(1);
    const [policy] = policies as [AccessPolicy];
    expect(enumOf(policy, 'operation', 'id')).toEqual(['FhirCreate', 'FhirUpdate', 'FhirPatch']);
    expect(enumOf(policy, 'params', 'resource/type')).toEqual(['Claim']);
    expect(notes).toContain('Write access does not imply read: no read or search on Claim.');
    expect(notes).toContain('Bulk $export is not granted: no resource type has both read and search.');
  });

  it('conditional writes need the search letter too', () => {
    const us = derivePolicies({ clientId: 'bs-acme', scopes: ['system/Claim.us'], organizationId: null });
    expect(enumOf(us.policies[0] as AccessPolicy, 'operation', 'id')).toEqual([
      'FhirUpdate',
      'FhirPatch',
      'FhirSearch',
      'FhirPostSearch',
      'FhirHistoryType',
      'FhirConditionalUpdate',
      'FhirConditionalPatch',
    ]);
    const d = derivePolicies({ clientId: 'bs-acme', scopes: ['system/Claim.d'], organizationId: null });
    expect(enumOf(d.policies[0] as AccessPolicy, 'operation', 'id')).toEqual(['FhirDelete']);
  });

  it('* expands to FHIR types, never to Aidbox system types nor server-configuration types', () => {
    const { policies } = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/*.read'],
      organizationId: null,
    });
    const types = enumOf(policies[0] as AccessPolicy, 'params', 'resource/type');
    expect(types).toHaveLength(FHIR_R4_RESOURCE_TYPES.length - WILDCARD_EXCLUDED_FHIR_TYPES.length);
    for (const type of [...AIDBOX_SYSTEM_RESOURCE_TYPES, ...WILDCARD_EXCLUDED_FHIR_TYPES])
      expect(types).not.toContain(type);
    expect(policies.map((p) => p.id)).toEqual([
      'bs-acme--fhir-rs',
      'bs-acme--export',
      'bs-acme--export-all',
      'bs-acme--export-status',
    ]);
    expect(policies[2]?.matcho.params).toEqual({ _type: 'nil?' });
  });

  it('FHIR types and Aidbox system types are disjoint', () => {
    for (const type of AIDBOX_SYSTEM_RESOURCE_TYPES) expect(FHIR_R4_RESOURCE_TYPES).not.toContain(type);
  });

  it('group-level export only with read on Group; _type limited to read+search types', () => {
    const without = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Patient.rs'],
      organizationId: null,
    });
    const exportPolicy = without.policies.find((p) => p.id === 'bs-acme--export') as AccessPolicy;
    expect(enumOf(exportPolicy, 'operation', 'id')).toEqual([
      'start-fhir-system-level-export',
      'start-fhir-patient-level-export',
    ]);
    expect(exportPolicy.matcho.params).toEqual({ _type: '#^(Patient)(,(Patient))*$' });
    expect(exportPolicy.matcho['request-method']).toBe('get');
    const withGroup = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Patient.rs', 'system/Group.r'],
      organizationId: null,
    });
    const groupExport = withGroup.policies.find((p) => p.id === 'bs-acme--export') as AccessPolicy;
    expect(enumOf(groupExport, 'operation', 'id')).toContain('start-fhir-group-level-export');
    expect(groupExport.matcho.params).toEqual({ _type: '#^(Patient)(,(Patient))*$' });
  });

  it('under OrgBAC: the organization API, params.organization/id and orgbac ids only', () => {
    const { policies, notes } = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Patient.rs', 'system/Claim.c'],
      organizationId: 'org.acme',
    });
    for (const policy of policies) {
      expect(String(policy.matcho.uri).startsWith('#^/Organization/org\\.acme/fhir/')).toBe(true);
      expect((policy.matcho.params as Record<string, unknown>)['organization/id']).toBe('org.acme');
      for (const id of enumOf(policy, 'operation', 'id')) expect(String(id)).toMatch(/^orgbac-/);
    }
    expect(notes).toContain(
      "Only the API of Organization/org.acme is granted (not the root FHIR API, not parent or sibling organizations' APIs). Under Aidbox OrgBAC that API also serves the data of every Organization nested under org.acme (its children, their children, …).",
    );
  });

  it('policy ids are deterministic and fit in 64 characters for the longest client id', () => {
    const { policies } = derivePolicies({
      clientId: longestClientId,
      scopes: ['system/*.cruds', 'system/Patient.cruds', 'system/Group.r'],
      organizationId: 'o'.repeat(64),
    });
    for (const policy of policies) expect(policy.id.length).toBeLessThanOrEqual(64);
    expect(policies.map((p) => p.id.slice(longestClientId.length))).toEqual([
      '--fhir-cruds',
      '--export',
      '--export-all',
      '--export-status',
    ]);
  });

  it('the hash is stable: same set in any order, string or parsed input; it changes with the scopes', () => {
    const a = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Patient.rs', 'system/Observation.rs'],
      organizationId: null,
    });
    const parsed = ['system/Observation.rs', 'system/Patient.r', 'system/Patient.s'].map((s) => {
      const result = parseScope(s);
      if (!result.ok) throw new Error(s);
      return result.scope;
    });
    const b = derivePolicies({ clientId: 'bs-acme', scopes: parsed, organizationId: null });
    expect(b.policyHash).toBe(a.policyHash);
    expect(
      derivePolicies({
        clientId: 'bs-acme',
        scopes: ['system/Patient.read', 'system/Observation.rs'],
        organizationId: null,
      }).policyHash,
    ).toBe(a.policyHash);
    const c = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Observation.rs', 'system/Patient.rs'],
      organizationId: null,
    });
    expect(c.policyHash).toBe(a.policyHash);
    expect(a.policyHash).toMatch(/^[0-9a-f]{64}$/);
    const d = derivePolicies({ clientId: 'bs-acme', scopes: ['system/Patient.rs'], organizationId: null });
    expect(d.policyHash).not.toBe(a.policyHash);
    // Plain JSON: survives a round trip unchanged (Temporal history).
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(canonicalJson({ b: 1, a: [2, { d: true, c: 'x' }] })).toBe('{"a":[2,{"c":"x","d":true}],"b":1}');
  });

  it('a hand-made ParsedScope is re-parsed, so it cannot smuggle in an Aidbox type', () => {
    expect(() =>
      derivePolicies({
        clientId: 'bs-acme',
        scopes: [
          {
            scope: 'system/Client.rs',
            version: 'v2',
            resourceType: 'Client',
            permissions: ['r', 's'],
            v1Permission: null,
          },
        ],
        organizationId: null,
      }),
    ).toThrow(ScopeDerivationError);
  });

  it('refuses bad input with ScopeDerivationError', () => {
    expect(() => derivePolicies({ clientId: 'acme', scopes: [], organizationId: null })).toThrow(
      ScopeDerivationError,
    );
    expect(() =>
      derivePolicies({ clientId: `bs-${'a'.repeat(33)}`, scopes: [], organizationId: null }),
    ).toThrow(ScopeDerivationError);
    expect(() => derivePolicies({ clientId: 'bs-acme', scopes: [], organizationId: 'org/../x' })).toThrow(
      ScopeDerivationError,
    );
    expect(() =>
      derivePolicies({ clientId: 'bs-acme', scopes: ['patient/Patient.r'], organizationId: null }),
    ).toThrow(/scope "patient\/Patient.r" refused: patient\/ scopes need/);
  });

  it('no scopes, no policies', () => {
    const { policies } = derivePolicies({ clientId: 'bs-acme', scopes: [], organizationId: null });
    expect(policies).toEqual([]);
  });
});

describe('staleAccessPolicyIds', () => {
  it('returns the client-owned ids the new set no longer has, never other policies', () => {
    const derived = derivePolicies({
      clientId: 'bs-acme',
      scopes: ['system/Claim.cu'],
      organizationId: null,
    });
    expect(
      staleAccessPolicyIds(
        'bs-acme',
        [
          'bs-acme--fhir-cu',
          'bs-acme--fhir-rs',
          'bs-acme--export',
          'bs-acmex--fhir-rs',
          'admin-api',
          'bs-acme--export',
        ],
        derived,
      ),
    ).toEqual(['bs-acme--export', 'bs-acme--fhir-rs']);
  });
});
