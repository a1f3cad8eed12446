/**
 * Least privilege, proven (issue 5 "Done means"): for random scope sets and random requests, the
 * Aidbox stand-in's policy engine, loaded with the derived policies, allows a request exactly when the
 * SMART scopes allow it (least-privilege.oracle.ts). A negative control widens one derived policy and
 * shows that the property then fails.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePolicies } from '../aidbox-standin/policy/engine.js';
import type { AccessPolicyResource } from '../aidbox-standin/policy/engine.js';
import { buildPolicyRequest } from '../aidbox-standin/policy/request.js';
import type { AccessPolicy } from './derive.js';
import { derivePolicies } from './derive.js';
import { fhirBase, joinQuery, renderInteraction } from '../test-support/policy-intents.js';
import { propertySeed } from '../test-support/seed.js';
import type { Api, Intent, OracleContext, SmartInteraction } from './least-privilege.oracle.js';
import { ORACLE_WILDCARD_EXCLUDED_TYPES, SMART_INTERACTIONS, smartAllows } from './least-privilege.oracle.js';

// ---------------------------------------------------------------------------------------------------
// Generators

/** FHIR types that scopes and requests share, so that allowed requests are frequent; Group for export;
 * SearchParameter / Subscription: FHIR types `*` does not cover. */
const FHIR_POOL = [
  'Patient',
  'Observation',
  'Encounter',
  'Group',
  'Claim',
  'Organization',
  'SearchParameter',
  'Subscription',
];
/** Aidbox's own types (served under /fhir too), a lower-case spelling and an unknown type. */
const NOT_FHIR_POOL = ['Client', 'AccessPolicy', 'User', 'Session', 'TokenIntrospector', 'patient', 'Foo'];
/** org-a has a child org-a1 and a sibling org-b; `org.a` / `orgXa` catch an unescaped regex dot. */
const ORGANIZATIONS = ['org-a', 'org-a1', 'org-b', 'org.a', 'orgXa'];
const CLIENT_IDS = ['bs-acme', `bs-${'x1'.repeat(16)}`];

const permissionsArb = fc.oneof(
  fc.constantFrom('read', 'write', '*'),
  fc.subarray(['c', 'r', 'u', 'd', 's'], { minLength: 1 }).map((letters) => letters.join('')),
);
const scopeArb = fc
  .tuple(
    fc.oneof(
      { weight: 1, arbitrary: fc.constant('*') },
      { weight: 5, arbitrary: fc.constantFrom(...FHIR_POOL) },
    ),
    permissionsArb,
  )
  .map(([type, perms]) => `system/${type}.${perms}`);

const apiArb: fc.Arbitrary<Api> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Api>({ kind: 'root' }) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(...ORGANIZATIONS)
      .map((organizationId): Api => ({ kind: 'organization', organizationId })),
  },
);
const requestTypeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FHIR_POOL) },
  { weight: 2, arbitrary: fc.constantFrom(...NOT_FHIR_POOL) },
);
/** Extra query parameters, some of them trying to inject route parameters. */
const extraQueryArb = fc.constantFrom(
  '',
  '_count=1',
  'resource%2Ftype=Patient',
  'resource/type=Patient',
  'organization%2Fid=org-a',
  '_type=Patient',
);
const typeTokenArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...FHIR_POOL) },
  { weight: 1, arbitrary: fc.constantFrom('Client', 'User', '', ' Patient') },
);

/** An intent plus the HTTP request that carries it. */
interface GeneratedRequest {
  intent: Intent;
  method: string;
  path: string;
  query: string;
  body?: unknown;
}

const interactionRequestArb: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    interaction: fc.constantFrom(...(Object.keys(SMART_INTERACTIONS) as SmartInteraction[])),
    resourceType: requestTypeArb,
    api: apiArb,
    id: fc.constantFrom('1', 'pt-1'),
    extra: extraQueryArb,
  })
  .map(({ interaction, resourceType, api, id, extra }) => ({
    intent: { kind: 'interaction', interaction, resourceType, api },
    ...renderInteraction(interaction, resourceType, api, id, extra),
  }));

const exportRequestArb: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    level: fc.constantFrom('system', 'patient', 'group'),
    method: fc.constantFrom('GET', 'GET', 'POST'),
    typeParams: fc.oneof(
      { weight: 1, arbitrary: fc.constant([] as string[][]) },
      { weight: 4, arbitrary: fc.array(typeTokenArb, { minLength: 1, maxLength: 3 }).map((t) => [t]) },
      {
        weight: 1,
        arbitrary: fc.array(fc.array(typeTokenArb, { minLength: 1, maxLength: 2 }), {
          minLength: 2,
          maxLength: 2,
        }),
      },
    ),
    encodeComma: fc.boolean(),
    api: apiArb,
  })
  .map(({ level, method, typeParams, encodeComma, api }) => {
    const path = {
      system: `${fhirBase(api)}/$export`,
      patient: `${fhirBase(api)}/Patient/$export`,
      group: `${fhirBase(api)}/Group/g1/$export`,
    }[level];
    const query = joinQuery(
      '_since=2024-01-01T00:00:00Z',
      ...typeParams.map((types) => `_type=${types.map(encodeURIComponent).join(encodeComma ? '%2C' : ',')}`),
    );
    return { intent: { kind: 'export', level, method, typeParams, api } as Intent, method, path, query };
  });

const exportStatusRequestArb: fc.Arbitrary<GeneratedRequest> = fc
  .record({ method: fc.constantFrom('GET', 'DELETE'), api: apiArb })
  .map(({ method, api }) => ({
    intent: { kind: 'export-status', method, api } as Intent,
    method,
    path: `${fhirBase(api)}/$export-status/job-1`,
    query: '',
  }));

/** Requests no scope grants: bundles, system-wide and compartment reads, other operations, metadata,
 * the Aidbox-format API at the root, and paths outside any FHIR API. */
const neverGrantedRequestArb: fc.Arbitrary<GeneratedRequest> = fc
  .tuple(
    fc.constantFrom<[string, string, string, string, unknown?]>(
      [
        'transaction bundle',
        'POST',
        '{api}',
        '',
        {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ request: { method: 'GET', url: 'Patient/1' } }],
        },
      ],
      [
        'batch bundle',
        'POST',
        '{api}/',
        '',
        {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [{ request: { method: 'DELETE', url: 'Patient/1' } }],
        },
      ],
      ['system search', 'GET', '{api}', '_type=Patient', undefined],
      ['system history', 'GET', '{api}/_history', '', undefined],
      ['compartment search', 'GET', '{api}/Patient/1/Observation', '', undefined],
      ['$everything', 'GET', '{api}/Patient/1/$everything', '', undefined],
      ['$validate', 'POST', '{api}/Patient/$validate', '', { resourceType: 'Patient' }],
      ['instance $export', 'GET', '{api}/Patient/1/$export', '', undefined],
      ['metadata', 'GET', '{api}/metadata', '', undefined],
      [
        'smart configuration under the FHIR base',
        'GET',
        '{api}/.well-known/smart-configuration',
        '',
        undefined,
      ],
      ['Aidbox-format read', 'GET', '/Patient/1', '', undefined],
      ['Aidbox-format search', 'GET', '/Observation', '', undefined],
      ['Aidbox-format create', 'POST', '/Patient', '', { resourceType: 'Patient' }],
      ['Aidbox-format Client read', 'GET', '/Client/bs-acme', '', undefined],
      ['Aidbox-format AccessPolicy write', 'PUT', '/AccessPolicy/bs-acme--fhir-rs', '', { engine: 'allow' }],
      ['Aidbox-format Session delete', 'DELETE', '/Session/s1', '', undefined],
      ['Aidbox-format $export', 'GET', '/$export', '_type=Patient', undefined],
      ['root', 'GET', '/', '', undefined],
      ['root POST bundle', 'POST', '/', '', { resourceType: 'Bundle', type: 'transaction', entry: [] }],
      ['health', 'GET', '/health', '', undefined],
      ['token endpoint', 'POST', '/auth/token', '', undefined],
      ['smart configuration', 'GET', '/.well-known/smart-configuration', '', undefined],
      ['root metadata', 'GET', '/metadata', '', undefined],
      ['look-alike base', 'GET', '/fhirx/Patient/1', '', undefined],
      ['look-alike base 2', 'GET', '/fhir-r4/Patient/1', '', undefined],
      ['organization resource itself', 'GET', '/Organization/org-a', '', undefined],
      ['organization Aidbox-format API', 'GET', '/Organization/org-a/aidbox/Patient/1', '', undefined],
      ['export file', 'GET', '/export-files/job-1/Patient.ndjson', '', undefined],
    ),
    apiArb,
  )
  .map(([[label, method, template, query, body], api]) => {
    const usesApi = template.includes('{api}');
    return {
      intent: { kind: 'never-granted', label, api: usesApi ? api : null } as Intent,
      method,
      path: template.replace('{api}', fhirBase(api)),
      query,
      body,
    };
  });

const requestArb = fc.oneof(
  { weight: 8, arbitrary: interactionRequestArb },
  { weight: 3, arbitrary: exportRequestArb },
  { weight: 1, arbitrary: exportStatusRequestArb },
  { weight: 2, arbitrary: neverGrantedRequestArb },
);

type CallerKind = 'the-client' | 'the-client-inactive' | 'another-client' | 'no-client';

const caseArb = fc.record({
  clientId: fc.constantFrom(...CLIENT_IDS),
  scopes: fc.array(scopeArb, { minLength: 0, maxLength: 4 }),
  organizationId: fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.constantFrom('org-a', 'org-a1', 'org.a') },
  ),
  orgbac: fc.boolean(),
  caller: fc.constantFrom<CallerKind>(
    'the-client',
    'the-client',
    'the-client',
    'the-client',
    'the-client-inactive',
    'another-client',
    'no-client',
  ),
  requests: fc.array(requestArb, { minLength: 1, maxLength: 25 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------------
// The property

/** The Client as Aidbox holds it (internal format, docs/aidbox-contract.md §1.1, §1.4, §2.1). */
function callerResource(c: Case): Record<string, unknown> | undefined {
  const tenant =
    c.organizationId === null
      ? {}
      : {
          meta: {
            extension: [
              {
                url: 'https://aidbox.app/tenant-organization-id',
                value: { Reference: { id: c.organizationId } },
              },
            ],
          },
        };
  const client = {
    resourceType: 'Client',
    type: 'smart-app',
    grant_types: ['client_credentials'],
    scope: c.scopes,
    ...tenant,
  };
  switch (c.caller) {
    case 'the-client':
      return { ...client, id: c.clientId, active: true };
    case 'the-client-inactive':
      return { ...client, id: c.clientId, active: false };
    case 'another-client':
      return { ...client, id: 'bs-other', active: true };
    case 'no-client':
      return undefined;
  }
}

type Derive = (c: Case) => AccessPolicy[];

const honestDerivation: Derive = (c) =>
  derivePolicies({ clientId: c.clientId, scopes: c.scopes, organizationId: c.organizationId }).policies;

/** Returns the first request where the engine and the oracle disagree, or null. */
function firstDisagreement(c: Case, derive: Derive) {
  const policies = derive(c) as unknown as AccessPolicyResource[];
  const client = callerResource(c);
  const context: OracleContext = {
    scopes: c.scopes,
    organizationId: c.organizationId,
    orgbac: c.orgbac,
    callerIsTheActiveClient: c.caller === 'the-client',
  };
  for (const request of c.requests) {
    const policyRequest = buildPolicyRequest({
      method: request.method,
      path: request.path,
      query: request.query,
      ...(client ? { client } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
      orgbac: c.orgbac,
    });
    const engine = evaluatePolicies(policies, policyRequest);
    const oracle = smartAllows(request.intent, context);
    if (engine.allowed !== oracle) {
      return {
        request: `${request.method} ${request.path}${request.query ? `?${request.query}` : ''}`,
        engine,
        oracle,
        operation: policyRequest.operation.id,
      };
    }
  }
  return null;
}

const property = (derive: Derive) =>
  fc.property(caseArb, (c) => {
    const disagreement = firstDisagreement(c, derive);
    if (disagreement) throw new Error(`engine and SMART oracle disagree: ${JSON.stringify(disagreement)}`);
  });

const RUNS = 2000;

describe('least privilege: the stand-in engine allows exactly what the SMART scopes allow', () => {
  it('holds for random scope sets, organizations, callers and requests', () => {
    fc.assert(property(honestDerivation), {
      numRuns: RUNS,
      seed: propertySeed('least-privilege', 20_261_201),
    });
  });

  it('a `*` scope reaches none of the types the oracle excludes, and the other types it does', () => {
    // Deterministic companion of the property: each excluded type is requested by a client holding
    // `system/*.*`; if the product's list lost one (say Subscription), the engine would allow it.
    const requests = [...ORACLE_WILDCARD_EXCLUDED_TYPES, 'Patient'].map((type) => ({
      intent: {
        kind: 'interaction',
        interaction: 'read',
        resourceType: type,
        api: { kind: 'root' },
      } as Intent,
      method: 'GET',
      path: `/fhir/${type}/1`,
      query: '',
    }));
    const c = {
      clientId: 'bs-acme',
      scopes: ['system/*.*'],
      organizationId: null,
      orgbac: false,
      caller: 'the-client',
      requests,
    } as unknown as Case;
    expect(firstDisagreement(c, honestDerivation)).toBeNull();
    // The oracle's answers, so the comparison above is not between two "deny everything"s.
    const context: OracleContext = {
      scopes: c.scopes,
      organizationId: null,
      orgbac: false,
      callerIsTheActiveClient: true,
    };
    expect(requests.map((r) => smartAllows(r.intent, context))).toEqual([
      ...ORACLE_WILDCARD_EXCLUDED_TYPES.map(() => false),
      true,
    ]);
  });

  it('the generator reaches both outcomes for every kind of request', () => {
    // Guards against a vacuous property (e.g. everything denied): count oracle outcomes per kind.
    const seen = new Map<string, { allowed: number; denied: number }>();
    fc.assert(
      fc.property(caseArb, (c) => {
        const context: OracleContext = {
          scopes: c.scopes,
          organizationId: c.organizationId,
          orgbac: c.orgbac,
          callerIsTheActiveClient: c.caller === 'the-client',
        };
        for (const request of c.requests) {
          const kind =
            request.intent.kind === 'interaction' ? request.intent.interaction : request.intent.kind;
          const tally = seen.get(kind) ?? { allowed: 0, denied: 0 };
          if (smartAllows(request.intent, context)) tally.allowed++;
          else tally.denied++;
          seen.set(kind, tally);
        }
      }),
      { numRuns: RUNS, seed: propertySeed('least-privilege generator reach', 20_261_202) },
    );
    for (const [kind, tally] of seen) {
      expect(tally.denied, kind).toBeGreaterThan(0);
      if (kind !== 'never-granted') expect(tally.allowed, kind).toBeGreaterThan(0);
    }
    expect(seen.size).toBe(Object.keys(SMART_INTERACTIONS).length + 3);
  });
});

// ---------------------------------------------------------------------------------------------------
// Negative controls: one derived policy deliberately widened must make the property fail.

function widenFirst(
  policies: AccessPolicy[],
  predicate: (p: AccessPolicy) => boolean,
  widen: (matcho: Record<string, unknown>) => void,
): AccessPolicy[] {
  const copy = structuredClone(policies);
  const target = copy.find(predicate);
  if (target) widen(target.matcho);
  return copy;
}

const isRestPolicy = (p: AccessPolicy) => p.id.includes('--fhir-');

const widenings: Array<[string, Derive]> = [
  [
    'type constraint dropped from one REST policy (Aidbox types and ungranted types become reachable)',
    (c) =>
      widenFirst(honestDerivation(c), isRestPolicy, (m) => {
        delete (m.params as Record<string, unknown>)['resource/type'];
        m.uri = String(m.uri).replace(/\(\?:[^)]*\)\(\?:\/\|\$\)$/, '');
      }),
  ],
  [
    'client.active no longer required on one REST policy',
    (c) =>
      widenFirst(honestDerivation(c), isRestPolicy, (m) => {
        m.client = { id: (m.client as { id: string }).id };
      }),
  ],
  [
    'one write-only REST policy also allows the operation ids of read (write implying read)',
    (c) =>
      widenFirst(
        honestDerivation(c),
        (p) => /--fhir-[cud]+$/.test(p.id),
        (m) => {
          const ids = (m.operation as { id: { $enum: string[] } }).id.$enum;
          ids.push('FhirRead', 'orgbac-fhir-read');
        },
      ),
  ],
  [
    'organization pinned by regex only, not by params (sibling and child organizations become reachable)',
    (c) =>
      widenFirst(
        honestDerivation(c),
        (p) => isRestPolicy(p) && c.organizationId !== null,
        (m) => {
          delete (m.params as Record<string, unknown>)['organization/id'];
          m.uri = '#^/Organization/[^/]+/fhir/';
        },
      ),
  ],
  [
    'export _type check dropped',
    (c) =>
      widenFirst(
        honestDerivation(c),
        (p) => p.id.endsWith('--export'),
        (m) => {
          delete (m.params as Record<string, unknown>)._type;
        },
      ),
  ],
];

describe('defence in depth', () => {
  it('still holds when a REST policy loses params.resource/type, since its uri names the types', () => {
    const uriOnly: Derive = (c) =>
      honestDerivation(c).map((p) => {
        if (!isRestPolicy(p)) return p;
        const copy = structuredClone(p);
        delete (copy.matcho.params as Record<string, unknown>)['resource/type'];
        return copy;
      });
    fc.assert(property(uriOnly), {
      numRuns: 1000,
      seed: propertySeed('least-privilege uri-only', 20_261_203),
    });
  });
});

describe('negative controls: a widened policy breaks the property', () => {
  it.each(widenings)('%s', (_label, widened) => {
    // A fixed seed: whether the control fails must not depend on luck (it fails within a few hundred runs).
    const result = fc.check(property(widened), { numRuns: 20_000, seed: 20_260_705 });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(
      /engine and SMART oracle disagree: .*"engine":\{"allowed":true/,
    );
  });
});
