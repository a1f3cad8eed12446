import { describe, expect, it } from 'vitest';
import { buildScopes, scopesInputSchema } from './build.js';
import { supportedTypesFromCapabilityStatement } from './resource-types.js';

function built(input: unknown) {
  const result = buildScopes(input);
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return result.value;
}

function refused(input: unknown) {
  const result = buildScopes(input);
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.value.strings)}`);
  return result.errors;
}

describe('buildScopes: canonical strings', () => {
  it('merges rules per type, orders * first then types, permissions in cruds order (v2)', () => {
    const value = built({
      version: 'v2',
      rules: [
        { resource: 'Patient', operations: ['search'] },
        { resource: 'Claim', operations: ['update', 'create'] },
        { resource: 'Patient', operations: ['read', 'read'] },
        { resource: 'ClaimResponse', operations: ['read'] },
        { resource: '*', operations: ['search'] },
      ],
    });
    expect(value.strings).toEqual([
      'system/*.s',
      'system/Claim.cu',
      'system/ClaimResponse.r',
      'system/Patient.rs',
    ]);
    expect(value.rules).toEqual([
      { resource: '*', operations: ['search'] },
      { resource: 'Claim', operations: ['create', 'update'] },
      { resource: 'ClaimResponse', operations: ['read'] },
      { resource: 'Patient', operations: ['read', 'search'] },
    ]);
    expect(value.notes).toEqual([]);
  });

  it('drops a type that * already covers, with a visible note', () => {
    const value = built({
      version: 'v2',
      rules: [
        { resource: 'Observation', operations: ['read'] },
        { resource: '*', operations: ['read', 'search'] },
        { resource: 'Patient', operations: ['read', 'search', 'create'] },
      ],
    });
    expect(value.strings).toEqual(['system/*.rs', 'system/Patient.crs']);
    expect(value.notes).toEqual(['system/Observation.r was dropped: system/*.rs already grants it.']);
  });

  it('keeps a server-configuration type even under *, since * does not stretch to it', () => {
    const value = built({
      version: 'v2',
      rules: [
        { resource: '*', operations: ['read', 'search'] },
        { resource: 'SearchParameter', operations: ['read'] },
      ],
    });
    expect(value.strings).toEqual(['system/*.rs', 'system/SearchParameter.r']);
    expect(value.risks.map((r) => r.code)).toEqual(['wildcard-resource-type', 'server-configuration-type']);
  });

  it('v1: read, write and both (*), merged per type', () => {
    const value = built({
      version: 'v1',
      rules: [
        { resource: 'Patient', operations: ['search', 'read'] },
        { resource: 'Claim', operations: ['create', 'update', 'delete'] },
        { resource: 'Patient', operations: ['create', 'update', 'delete'] },
        { resource: 'Observation', operations: ['read', 'search'] },
      ],
    });
    expect(value.strings).toEqual(['system/Claim.write', 'system/Observation.read', 'system/Patient.*']);
    expect(value.scopes.map((s) => s.v1Permission)).toEqual(['write', 'read', '*']);
  });

  it('v1: * covering a type is dropped with a note in v1 words', () => {
    const value = built({
      version: 'v1',
      rules: [
        { resource: '*', operations: ['read', 'search'] },
        { resource: 'Patient', operations: ['read', 'search'] },
      ],
    });
    expect(value.strings).toEqual(['system/*.read']);
    expect(value.notes).toEqual(['system/Patient.read was dropped: system/*.read already grants it.']);
  });

  it('the zod schema accepts the docs/api.md shape', () => {
    expect(
      scopesInputSchema.safeParse({ version: 'v2', rules: [{ resource: 'Patient', operations: ['read'] }] })
        .success,
    ).toBe(true);
  });
});

describe('buildScopes: every refusal and its message', () => {
  it('v1 selection not made of whole groups, suggesting v2', () => {
    expect(
      refused({
        version: 'v1',
        rules: [
          { resource: 'Patient', operations: ['read', 'search'] },
          { resource: 'Observation', operations: ['read'] },
          { resource: 'Claim', operations: ['create', 'update'] },
          { resource: '*', operations: ['read', 'search', 'delete'] },
        ],
      }),
    ).toEqual([
      {
        field: '/scopes/rules/1/operations',
        message:
          'Scope version v1 can only express read (= read + search), write (= create + update + delete) or both; read is not made of whole groups. Choose scope version v2 to grant exactly read (system/Observation.r).',
      },
      {
        field: '/scopes/rules/2/operations',
        message:
          'Scope version v1 can only express read (= read + search), write (= create + update + delete) or both; create, update is not made of whole groups. Choose scope version v2 to grant exactly create, update (system/Claim.cu).',
      },
      {
        field: '/scopes/rules/3/operations',
        message:
          'Scope version v1 can only express read (= read + search), write (= create + update + delete) or both; read, delete, search is not made of whole groups. Choose scope version v2 to grant exactly read, delete, search (system/*.rds).',
      },
    ]);
  });

  it('resource types: Aidbox system type, unknown type, unsupported by the CapabilityStatement', () => {
    expect(
      refused({
        version: 'v2',
        rules: [
          { resource: 'Client', operations: ['read'] },
          { resource: 'Patient', operations: ['read'] },
          { resource: 'Observaton', operations: ['read'] },
        ],
      }),
    ).toEqual([
      {
        field: '/scopes/rules/0/resource',
        message: 'Client is an Aidbox system resource, not a FHIR resource; no scope can grant access to it.',
      },
      {
        field: '/scopes/rules/2/resource',
        message: '"Observaton" is not a FHIR R4 resource type; use a resource type such as Patient, or *.',
      },
    ]);
    const supportedTypes = supportedTypesFromCapabilityStatement({
      rest: [{ mode: 'server', resource: [{ type: 'Patient' }] }],
    });
    expect(
      buildScopes(
        { version: 'v2', rules: [{ resource: 'Encounter', operations: ['read'] }] },
        { supportedTypes },
      ),
    ).toEqual({
      ok: false,
      errors: [
        {
          field: '/scopes/rules/0/resource',
          message:
            'Encounter is a FHIR R4 resource type this server does not support (its CapabilityStatement does not list it).',
        },
      ],
    });
  });

  it('shape refusals name the field', () => {
    expect(refused({ version: 'v3', rules: [] })).toEqual([
      { field: '/scopes/version', message: 'version must be v1 or v2' },
      { field: '/scopes/rules', message: 'add at least one scope rule' },
    ]);
    expect(refused({ version: 'v2', rules: [{ resource: 'Patient', operations: [] }] })).toEqual([
      { field: '/scopes/rules/0/operations', message: 'choose at least one operation' },
    ]);
    expect(
      refused({ version: 'v2', rules: [{ resource: 'Patient', operations: ['read', 'patch'] }] }),
    ).toEqual([
      {
        field: '/scopes/rules/0/operations/1',
        message: 'operation must be one of create, read, update, delete, search',
      },
    ]);
    expect(refused({ version: 'v2', rules: [{ resource: '', operations: ['read'] }] })).toEqual([
      { field: '/scopes/rules/0/resource', message: 'resource must be a FHIR resource type or *' },
    ]);
    expect(refused({ version: 'v2', rules: [{ operations: ['read'] }] })).toEqual([
      { field: '/scopes/rules/0/resource', message: 'resource must be a FHIR resource type or *' },
    ]);
    expect(refused({ version: 'v2', rules: 'system/Patient.rs' })).toEqual([
      { field: '/scopes/rules', message: 'rules must be a list of { resource, operations }' },
    ]);
    expect(refused({ version: 'v2', rules: [{ resource: 'Patient', operations: 'read' }] })).toEqual([
      {
        field: '/scopes/rules/0/operations',
        message: 'operations must be a list of create, read, update, delete, search',
      },
    ]);
    expect(
      refused({
        version: 'v2',
        rules: [{ resource: 'Patient', operations: ['read'], subject: 'patient' }],
        strings: ['system/Patient.r'],
      }),
    ).toEqual([
      { field: '/scopes/rules/0/subject', message: 'unknown field "subject"' },
      { field: '/scopes/strings', message: 'unknown field "strings"' },
    ]);
    expect(
      refused({
        version: 'v2',
        rules: Array.from({ length: 201 }, () => ({ resource: 'Patient', operations: ['read'] })),
      }),
    ).toEqual([{ field: '/scopes/rules', message: 'at most 200 scope rules' }]);
  });

  it('uses the given pointer base', () => {
    expect(
      buildScopes({ version: 'v1', rules: [{ resource: 'Patient', operations: ['read'] }] }, { pointer: '' }),
    ).toMatchObject({
      ok: false,
      errors: [{ field: '/rules/0/operations' }],
    });
  });
});

describe('risk flags', () => {
  it('flags wildcard types, write operations and v1 *', () => {
    const value = built({
      version: 'v1',
      rules: [
        { resource: '*', operations: ['read', 'search'] },
        { resource: 'Claim', operations: ['create', 'read', 'update', 'delete', 'search'] },
      ],
    });
    expect(value.risks).toEqual([
      {
        code: 'wildcard-resource-type',
        severity: 'medium',
        message:
          'system/*.read applies to every FHIR resource type (139 today, and any the server adds later). An explicit list of types is safer.',
        scopes: ['system/*.read'],
      },
      {
        code: 'write-operations',
        severity: 'high',
        message:
          'system/Claim.* grants create/update/delete in production. Check that the service needs to change data, not just read it.',
        scopes: ['system/Claim.*'],
      },
      {
        code: 'v1-wildcard-permissions',
        severity: 'medium',
        message:
          'system/Claim.* (v1 ".*") grants create, read, update, delete and search. With v2 scopes the service can ask for only the permissions it needs (e.g. .rs).',
        scopes: ['system/Claim.*'],
      },
    ]);
  });

  it('a wildcard with write access is high, write without delete is medium, read-only raises nothing', () => {
    expect(
      built({ version: 'v2', rules: [{ resource: '*', operations: ['create'] }] }).risks.map((r) => [
        r.code,
        r.severity,
      ]),
    ).toEqual([
      ['wildcard-resource-type', 'high'],
      ['write-operations', 'medium'],
    ]);
    expect(
      built({ version: 'v2', rules: [{ resource: 'Patient', operations: ['read', 'search'] }] }).risks,
    ).toEqual([]);
  });
});
