/**
 * Golden tests of the AccessPolicy engine: the examples of docs/aidbox-contract.md §2.3 and §3, and
 * Payerbox-style policies ($one-of, `.path`, present?). Each policy has a request that must pass
 * and one that must be denied; the requests are built by the same router the server uses.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePolicies } from './engine.js';
import { matcho } from './matcho.js';
import { buildPolicyRequest } from './request.js';
import type { AccessPolicyResource } from './types.js';

const activeClient = (id: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Client',
  id,
  active: true,
  ...extra,
});

/** Section 2.3: this client may GET/search Patient and Observation only. */
const readPatientObservation: AccessPolicyResource = {
  resourceType: 'AccessPolicy',
  id: 'bs-acme-bulk--read',
  engine: 'matcho',
  link: [{ reference: 'Client/bs-acme-bulk' }],
  matcho: {
    client: { id: 'bs-acme-bulk', active: true },
    uri: '#^/fhir/',
    operation: { id: { $enum: ['FhirRead', 'FhirVread', 'FhirSearch', 'FhirPostSearch'] } },
    params: { 'resource/type': { $enum: ['Patient', 'Observation'] } },
  },
};

/** Section 3: OrgBAC, the client's tenant extension compared with the org in the URL. */
const orgbacTenantPolicy: AccessPolicyResource = {
  resourceType: 'AccessPolicy',
  id: 'bs-acme-bulk--org',
  engine: 'matcho',
  link: [{ reference: 'Client/bs-acme-bulk' }],
  matcho: {
    client: {
      id: 'bs-acme-bulk',
      meta: {
        extension: {
          $contains: {
            url: 'https://aidbox.app/tenant-organization-id',
            value: { Reference: { id: '.params.organization/id' } },
          },
        },
      },
    },
    params: { 'organization/id': 'present?', 'resource/type': { $enum: ['Patient', 'Observation'] } },
    operation: { id: { $enum: ['orgbac-fhir-read', 'orgbac-fhir-search'] } },
  },
};

/** Section 3 / 2.4 step 8: the org hard-coded in the derived policy. */
const orgbacHardCoded: AccessPolicyResource = {
  resourceType: 'AccessPolicy',
  id: 'bs-acme-bulk--org-fixed',
  engine: 'matcho',
  link: [{ reference: 'Client/bs-acme-bulk' }],
  matcho: {
    client: { id: 'bs-acme-bulk', active: true },
    uri: '#^/Organization/org-acme/fhir/',
    params: { 'organization/id': 'org-acme', 'resource/type': 'Patient' },
    operation: { id: { $enum: ['orgbac-fhir-read', 'orgbac-fhir-search'] } },
  },
};

/** Payerbox `admin-api` style: `$one-of` next to `client` at the top level. */
const adminApiStyle: AccessPolicyResource = {
  resourceType: 'AccessPolicy',
  id: 'admin-api',
  engine: 'matcho',
  link: [{ reference: 'Client/admin-api' }],
  matcho: {
    client: { id: 'admin-api' },
    '$one-of': [
      { 'request-method': 'get', params: { 'resource/type': 'Client' } },
      { 'request-method': 'get', uri: '#^/fhir/Organization' },
    ],
  },
};

/** `.path` comparison guarded by `present?` (the gotcha of section 2.1). */
const ownSessionsOnly: AccessPolicyResource = {
  resourceType: 'AccessPolicy',
  id: 'own-session',
  engine: 'matcho',
  matcho: {
    jwt: { sub: 'present?' },
    'request-method': 'get',
    params: { 'resource/type': 'Session', 'resource/id': '.jwt.jti' },
  },
};

/** Complex and/or (section 2.1). */
const exportPolicy: AccessPolicyResource = {
  resourceType: 'AccessPolicy',
  id: 'bs-acme-bulk--export',
  engine: 'complex',
  link: [{ reference: 'Client/bs-acme-bulk' }],
  and: [
    { engine: 'matcho', matcho: { client: { id: 'bs-acme-bulk', active: true } } },
    {
      engine: 'complex',
      or: [
        {
          engine: 'matcho',
          matcho: {
            operation: { id: 'start-fhir-group-level-export' },
            params: { _type: '#^(Patient|Observation)(,(Patient|Observation))*$' },
          },
        },
        {
          engine: 'matcho',
          matcho: { operation: { id: { $enum: ['fhir-export-status', 'fhir-delete-export'] } } },
        },
      ],
    },
  ],
};

interface Golden {
  name: string;
  policy: AccessPolicyResource;
  pass: Parameters<typeof buildPolicyRequest>[0];
  deny: Parameters<typeof buildPolicyRequest>[0];
}

const goldens: Golden[] = [
  {
    name: '2.3 read Patient/Observation',
    policy: readPatientObservation,
    pass: {
      method: 'GET',
      path: '/fhir/Observation',
      query: 'patient=pt-1',
      client: activeClient('bs-acme-bulk'),
      orgbac: false,
    },
    deny: { method: 'GET', path: '/fhir/Encounter', client: activeClient('bs-acme-bulk'), orgbac: false },
  },
  {
    name: '2.3 denies writes on an allowed type',
    policy: readPatientObservation,
    pass: { method: 'GET', path: '/fhir/Patient/pt-1', client: activeClient('bs-acme-bulk'), orgbac: false },
    deny: {
      method: 'PUT',
      path: '/fhir/Patient/pt-1',
      client: activeClient('bs-acme-bulk'),
      body: { resourceType: 'Patient' },
      orgbac: false,
    },
  },
  {
    name: '2.3 denies an inactive client',
    policy: readPatientObservation,
    pass: { method: 'GET', path: '/fhir/Patient', client: activeClient('bs-acme-bulk'), orgbac: false },
    deny: {
      method: 'GET',
      path: '/fhir/Patient',
      client: activeClient('bs-acme-bulk', { active: false }),
      orgbac: false,
    },
  },
  {
    name: '2.3 anchors to /fhir/ (the Aidbox-format API is not covered)',
    policy: readPatientObservation,
    pass: { method: 'GET', path: '/fhir/Patient/pt-1', client: activeClient('bs-acme-bulk'), orgbac: false },
    deny: { method: 'GET', path: '/Patient/pt-1', client: activeClient('bs-acme-bulk'), orgbac: false },
  },
  {
    name: '3 tenant extension compared with the org in the URL',
    policy: orgbacTenantPolicy,
    pass: {
      method: 'GET',
      path: '/Organization/org-acme/fhir/Patient',
      client: activeClient('bs-acme-bulk', {
        meta: {
          extension: [
            {
              url: 'https://aidbox.app/tenant-organization-id',
              value: { Reference: { id: 'org-acme', resourceType: 'Organization' } },
            },
          ],
        },
      }),
      orgbac: true,
    },
    deny: {
      method: 'GET',
      path: '/Organization/org-other/fhir/Patient',
      client: activeClient('bs-acme-bulk', {
        meta: {
          extension: [
            {
              url: 'https://aidbox.app/tenant-organization-id',
              value: { Reference: { id: 'org-acme', resourceType: 'Organization' } },
            },
          ],
        },
      }),
      orgbac: true,
    },
  },
  {
    name: '3 hard-coded organization',
    policy: orgbacHardCoded,
    pass: {
      method: 'GET',
      path: '/Organization/org-acme/fhir/Patient/p1',
      client: activeClient('bs-acme-bulk'),
      orgbac: true,
    },
    deny: {
      method: 'GET',
      path: '/Organization/org-b/fhir/Patient/p1',
      client: activeClient('bs-acme-bulk'),
      orgbac: true,
    },
  },
  {
    name: 'Payerbox $one-of beside client',
    policy: adminApiStyle,
    pass: {
      method: 'GET',
      path: '/fhir/Organization',
      query: 'name=acme',
      client: activeClient('admin-api'),
      orgbac: false,
    },
    deny: { method: 'DELETE', path: '/fhir/Client/x', client: activeClient('admin-api'), orgbac: false },
  },
  {
    name: '.path with present? guard',
    policy: ownSessionsOnly,
    pass: { method: 'GET', path: '/fhir/Session/s-1', jwt: { sub: 'bs-x', jti: 's-1' }, orgbac: false },
    deny: { method: 'GET', path: '/fhir/Session/s-2', jwt: { sub: 'bs-x', jti: 's-1' }, orgbac: false },
  },
  {
    name: 'complex and/or for group export',
    policy: exportPolicy,
    pass: {
      method: 'GET',
      path: '/fhir/Group/g1/$export',
      query: '_type=Patient,Observation',
      client: activeClient('bs-acme-bulk'),
      orgbac: false,
    },
    deny: {
      method: 'GET',
      path: '/fhir/Group/g1/$export',
      query: '_type=Patient,Claim',
      client: activeClient('bs-acme-bulk'),
      orgbac: false,
    },
  },
];

describe('AccessPolicy engine goldens', () => {
  for (const golden of goldens) {
    it(`${golden.name}: passes`, () => {
      expect(evaluatePolicies([golden.policy], buildPolicyRequest(golden.pass))).toEqual({
        allowed: true,
        policyId: golden.policy.id,
      });
    });
    it(`${golden.name}: denies`, () => {
      expect(evaluatePolicies([golden.policy], buildPolicyRequest(golden.deny))).toEqual({ allowed: false });
    });
  }
});

describe('candidate selection and decision', () => {
  const request = buildPolicyRequest({
    method: 'GET',
    path: '/fhir/Patient',
    client: activeClient('c1'),
    orgbac: false,
  });

  it('denies everything when no policy exists', () => {
    expect(evaluatePolicies([], request).allowed).toBe(false);
  });

  it('runs a global policy (no link) for everyone', () => {
    expect(evaluatePolicies([{ id: 'g', engine: 'allow' }], request)).toEqual({
      allowed: true,
      policyId: 'g',
    });
  });

  it('skips a policy linked to another client', () => {
    expect(
      evaluatePolicies([{ id: 'p', engine: 'allow', link: [{ reference: 'Client/other' }] }], request)
        .allowed,
    ).toBe(false);
  });

  it('ORs links: a policy linked to another client and to the operation runs for everyone (section 2.1 mistake)', () => {
    const policy: AccessPolicyResource = {
      id: 'p',
      engine: 'allow',
      link: [{ reference: 'Client/other' }, { resourceType: 'Operation', id: 'FhirSearch' }],
    };
    expect(evaluatePolicies([policy], request).allowed).toBe(true);
  });

  it('first granting policy wins', () => {
    const policies: AccessPolicyResource[] = [
      { id: 'no', engine: 'matcho', matcho: { client: { id: 'nobody' } } },
      { id: 'yes', engine: 'allow', link: [{ reference: 'Client/c1' }] },
    ];
    expect(evaluatePolicies(policies, request)).toEqual({ allowed: true, policyId: 'yes' });
  });

  it('fails closed on sql, unknown engines, a json-schema policy without a valid schema, and on complex with both and/or', () => {
    for (const policy of [
      { id: 's', engine: 'sql', sql: { query: 'select true' } },
      { id: 'j', engine: 'json-schema' },
      { id: 'j2', engine: 'json-schema', schema: { type: 'no-such-type' } },
      { id: 'x', engine: 'magic' },
      { id: 'c', engine: 'complex', and: [{ engine: 'allow' }], or: [{ engine: 'allow' }] },
    ] as AccessPolicyResource[]) {
      expect(evaluatePolicies([policy], request).allowed).toBe(false);
    }
  });
});

describe('matcho operators', () => {
  const ctx = { user: { id: 'u1' }, params: {} };
  it.each([
    ['literal', { a: 1 }, { a: 1, b: 2 }, true],
    ['literal mismatch', { a: 1 }, { a: 2 }, false],
    ['nested partial', { a: { b: 5 } }, { a: { b: 5, c: 6 } }, true],
    ['array in order', [1, 2], [1, 2, 3], true],
    ['array out of order', [1, 2], [2, 1], false],
    ['regex', { a: '#\\d+' }, { a: '2345' }, true],
    ['regex mismatch', { a: '#^\\d+$' }, { a: 'abc' }, false],
    ['present?', { a: 'present?' }, { a: { b: 6 } }, true],
    ['present? missing', { a: 'present?' }, { b: 5 }, false],
    ['nil?', { a: 'nil?' }, { b: 5 }, true],
    ['not-blank?', { a: 'not-blank?' }, { a: ' ' }, false],
    ['$enum', { m: { $enum: ['get', 'post'] } }, { m: 'post' }, true],
    ['$enum miss', { m: { $enum: ['get', 'post'] } }, { m: 'put' }, false],
    ['$one-of', { a: { '$one-of': [{ b: 'present?' }, { c: 'present?' }] } }, { a: { c: 5 } }, true],
    ['$one-of miss', { a: { '$one-of': [{ b: 'present?' }, { c: 'present?' }] } }, { a: { d: 5 } }, false],
    [
      '$contains',
      { type: { $contains: { system: 'loinc' } } },
      { type: [{ system: 'snomed' }, { system: 'loinc' }] },
      true,
    ],
    ['$every', { col: { $every: { foo: 'bar' } } }, { col: [{ foo: 'bar' }, { foo: 'bar', baz: 1 }] }, true],
    ['$every miss', { col: { $every: { foo: 'bar' } } }, { col: [{ foo: 'bar' }, { foo: 'x' }] }, false],
    ['$not', { message: { $not: { status: 'private' } } }, { message: { status: 'public' } }, true],
    ['$not miss', { message: { $not: { status: 'private' } } }, { message: { status: 'private' } }, false],
    [
      '$reference',
      { patient: { $reference: { id: 'p1', resourceType: 'Patient' } } },
      { patient: { reference: 'Patient/p1' } },
      true,
    ],
    [
      '$present-all + $length',
      { tags: { '$present-all': ['b', 'a'], $length: 2 } },
      { tags: ['a', 'b'] },
      true,
    ],
    ['$length miss', { tags: { $length: 1 } }, { tags: ['a', 'b'] }, false],
    ['.path', { params: { user_id: '.user.id' } }, { params: { user_id: 'u1' } }, true],
    ['.path mismatch', { params: { user_id: '.user.id' } }, { params: { user_id: 'u2' } }, false],
    [
      '.path gotcha: both sides missing compare equal',
      { params: { x: '.user.missing' } },
      { params: {} },
      true,
    ],
  ])('%s', (_name, pattern, subject, expected) => {
    expect(matcho(subject, pattern, ctx)).toBe(expected);
  });
});

/**
 * `json-schema` policies are JSON Schema draft-07 (docs.aidbox.app access-control page), where an
 * unknown keyword is ignored: a policy shaped like the quickstart's `allow-admin-tokens`, which spells
 * `const` as `constant`, lets any JWT with an `iss` through. The stand-in must show that over-grant.
 */
describe('json-schema engine (draft-07, unknown keywords ignored)', () => {
  const tokenRequest = (iss: string | undefined) =>
    buildPolicyRequest({
      method: 'GET',
      path: '/fhir/Client',
      jwt: iss === undefined ? { sub: 'someone' } : { iss, sub: 'someone' },
      orgbac: false,
    });
  const adminTokens = (keyword: 'constant' | 'const'): AccessPolicyResource => ({
    id: 'allow-admin-tokens',
    engine: 'json-schema',
    schema: {
      type: 'object',
      required: ['jwt'],
      properties: {
        jwt: {
          type: 'object',
          required: ['iss'],
          properties: { iss: { [keyword]: 'https://admin-idp.example' } },
        },
      },
    },
  });

  it('the misspelt policy grants any JWT with an iss (the over-grant), but not a request without one', () => {
    expect(evaluatePolicies([adminTokens('constant')], tokenRequest('https://anyone.example')).allowed).toBe(
      true,
    );
    expect(evaluatePolicies([adminTokens('constant')], tokenRequest(undefined)).allowed).toBe(false);
  });

  it('negative control: spelt const, only the admin issuer passes', () => {
    expect(evaluatePolicies([adminTokens('const')], tokenRequest('https://anyone.example')).allowed).toBe(
      false,
    );
    expect(evaluatePolicies([adminTokens('const')], tokenRequest('https://admin-idp.example')).allowed).toBe(
      true,
    );
  });
});
