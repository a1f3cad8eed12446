import { describe, expect, it } from 'vitest';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import { createInMemoryIssuer } from './auth/local-issuer.js';
import { rulesOnlyCommands } from '../test-support/rules-only-commands.js';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  buildApp,
  createIdentities,
  seedService,
  serviceState,
  testSecretStore,
  validRegistration,
  routeTestResources,
} from '../test-support/api-harness.js';

/**
 * Every route × every kind of caller, each expected status a literal. Services are seeded in the
 * state where the route's action is allowed, so an allowed caller gets the success status and
 * everything else is authorization. The workflow port is the real validators (rules.ts) with no
 * worker, so this runs without the worker wiring. `ownerNoRole` is the owner whose token lost the
 * developer role: 403 on everything but the public routes.
 */
type Caller =
  | 'owner'
  | 'ownerNoRole'
  | 'otherDeveloper'
  | 'admin'
  | 'adminOwner'
  | 'noToken'
  | 'expiredToken'
  | 'foreignIssuer';
const CALLERS: Caller[] = [
  'owner',
  'ownerNoRole',
  'otherDeveloper',
  'admin',
  'adminOwner',
  'noToken',
  'expiredToken',
  'foreignIssuer',
];

const OWNER = 'olivia';
const OTHER = 'dave';
const ADMIN = 'ada';
const ADMIN_OWNER = 'amos';
const POLICY_HASH = 'a'.repeat(64);

type Setup = 'draft-secret' | 'draft-jwks' | 'under-review' | 'active' | 'staged' | 'active-change' | 'none';

interface Row {
  route: string;
  setup: Setup;
  body?: unknown;
  headers?: Record<string, string>;
  expected: Record<Caller, number>;
}

const unauthenticated = { noToken: 401, expiredToken: 401, foreignIssuer: 401 } as const;

const MATRIX: Row[] = [
  {
    route: 'GET /healthz',
    setup: 'none',
    expected: {
      owner: 200,
      ownerNoRole: 200,
      otherDeveloper: 200,
      admin: 200,
      adminOwner: 200,
      noToken: 200,
      expiredToken: 200,
      foreignIssuer: 200,
    },
  },
  {
    route: 'GET /readyz',
    setup: 'none',
    expected: {
      owner: 200,
      ownerNoRole: 200,
      otherDeveloper: 200,
      admin: 200,
      adminOwner: 200,
      noToken: 200,
      expiredToken: 200,
      foreignIssuer: 200,
    },
  },
  {
    route: 'GET /openapi.json',
    setup: 'none',
    expected: {
      owner: 200,
      ownerNoRole: 200,
      otherDeveloper: 200,
      admin: 200,
      adminOwner: 200,
      noToken: 200,
      expiredToken: 200,
      foreignIssuer: 200,
    },
  },
  {
    route: 'GET /docs',
    setup: 'none',
    expected: {
      owner: 200,
      ownerNoRole: 200,
      otherDeveloper: 200,
      admin: 200,
      adminOwner: 200,
      noToken: 200,
      expiredToken: 200,
      foreignIssuer: 200,
    },
  },
  {
    route: 'GET /v1/organizations',
    setup: 'none',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 200,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services',
    setup: 'none',
    body: validRegistration(),
    expected: {
      ownerNoRole: 403,
      owner: 201,
      otherDeveloper: 201,
      admin: 403,
      adminOwner: 201,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/backend-services',
    setup: 'none',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 200,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/backend-services/{id}',
    setup: 'draft-secret',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'PATCH /v1/backend-services/{id}',
    setup: 'draft-secret',
    body: { name: 'Renamed' },
    headers: { 'If-Match': '"1"', 'Content-Type': 'application/merge-patch+json' },
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services/{id}/submit',
    setup: 'draft-secret',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services/{id}/rotate-secret',
    setup: 'draft-secret',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services/{id}/recheck-credentials',
    setup: 'draft-jwks',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/backend-services/{id}/history',
    setup: 'draft-secret',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/backend-services/{id}/jwks-report',
    setup: 'draft-jwks',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services/{id}/assertion-check',
    setup: 'draft-jwks',
    body: { environment: 'sandbox', clientAssertion: 'a.b.c' },
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/admin/review-queue',
    setup: 'none',
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 403,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/admin/backend-services',
    setup: 'none',
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 403,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/admin/backend-services/{id}/production-policies',
    setup: 'under-review',
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 404,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/admin/backend-services/{id}/approve',
    setup: 'under-review',
    body: { revision: 1, policyHash: POLICY_HASH },
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 404,
      admin: 202,
      adminOwner: 403,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/admin/backend-services/{id}/reject',
    setup: 'under-review',
    body: { reason: 'Scopes too broad' },
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 404,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/admin/backend-services/{id}/deactivate',
    setup: 'active',
    body: { reason: 'Contract ended' },
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 404,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services/{id}/withdraw',
    setup: 'under-review',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'DELETE /v1/backend-services/{id}',
    setup: 'draft-secret',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services/{id}/revoke',
    setup: 'active',
    body: { reason: 'Key leaked' },
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'POST /v1/backend-services/{id}/activate-staged-secret',
    setup: 'staged',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'DELETE /v1/backend-services/{id}/staged-secret',
    setup: 'staged',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'DELETE /v1/backend-services/{id}/pending-change',
    setup: 'active-change',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/backend-services/{id}/notifications',
    setup: 'draft-secret',
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'PUT /v1/backend-services/{id}/notifications',
    setup: 'draft-secret',
    body: { email: { approved: false } },
    expected: {
      ownerNoRole: 403,
      owner: 200,
      otherDeveloper: 404,
      admin: 403,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    // Development mode only (the matrix runs in it): what npm start's SMTP catcher caught.
    route: 'GET /dev/mail',
    setup: 'none',
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 403,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
  {
    route: 'GET /v1/admin/backend-services/{id}',
    setup: 'draft-secret',
    expected: {
      ownerNoRole: 403,
      owner: 403,
      otherDeveloper: 403,
      admin: 200,
      adminOwner: 200,
      ...unauthenticated,
    },
  },
];

function stateFor(setup: Exclude<Setup, 'none'>, ownerId: string): ServiceState {
  const base = serviceState({ ownerId });
  const submission = {
    revision: 1,
    submittedAt: new Date().toISOString(),
    submittedBy: ownerId,
    registration: base.registration,
    productionPolicies: { policies: [], policyHash: POLICY_HASH, notes: [] },
  };
  switch (setup) {
    case 'draft-secret':
      return { ...base, credentials: { ...base.credentials, secret: null } };
    case 'draft-jwks':
      return {
        ...base,
        registration: {
          ...base.registration,
          authMethod: { type: 'jwks_uri', jwksUri: 'https://acme.example/jwks.json' },
        },
        credentials: {
          ...base.credentials,
          secret: null,
          jwksReport: { valid: true, checkedAt: base.createdAt, keys: [] } as never,
        },
      };
    case 'under-review':
      return { ...base, status: 'under_review', submission };
    case 'active':
      return { ...base, status: 'active', submission, productionProvisioned: true };
    case 'active-change':
      return {
        ...base,
        status: 'active',
        submission,
        productionProvisioned: true,
        pendingChange: {
          revision: 2,
          state: 'draft',
          registration: base.registration,
          credentials: { state: 'valid', checkedAt: null, jwksReport: null, acceptedThumbprints: {} },
          submission: null,
          rejection: null,
        },
      };
    case 'staged':
      return {
        ...base,
        status: 'active',
        submission,
        productionProvisioned: true,
        credentials: {
          ...base.credentials,
          stagedSecret: {
            version: 2,
            fingerprint: 'f'.repeat(16),
            createdAt: base.createdAt,
            activateAt: new Date(Date.now() + 86_400_000).toISOString(),
          },
        },
      };
  }
}

describe('authorization matrix', async () => {
  const { config, db, temporal } = routeTestResources();
  const ids = await createIdentities();
  const foreign = await createInMemoryIssuer({
    issuer: 'https://another-issuer.invalid',
    audience: TEST_AUDIENCE,
  });
  const secrets = testSecretStore(db);
  const app = buildApp(db, temporal, ids, {
    config,
    secrets,
    commands: rulesOnlyCommands(db, secrets),
    jwksFetcher: async (url) => ({
      ok: true,
      url,
      finalUrl: url,
      redirected: false,
      status: 200,
      contentType: 'application/json',
      cacheControl: 'max-age=300',
      bytes: 12,
      document: { keys: [] },
    }),
  });

  const headersFor: Record<Caller, () => Promise<Record<string, string>>> = {
    owner: () => ids.bearer(OWNER, ['developer']),
    // The owner after losing the developer role: owning a service gives no power by itself.
    ownerNoRole: () => ids.bearer(OWNER, []),
    otherDeveloper: () => ids.bearer(OTHER, ['developer']),
    admin: () => ids.bearer(ADMIN, ['admin']),
    adminOwner: () => ids.bearer(ADMIN_OWNER, ['developer', 'admin']),
    noToken: async () => ({}),
    expiredToken: async () => ({
      Authorization: `Bearer ${await ids.token(OWNER, ['developer', 'admin'], { expiresInSeconds: -300 })}`,
    }),
    foreignIssuer: async () => ({
      Authorization: `Bearer ${await foreign.sign(OWNER, ['developer', 'admin'])}`,
    }),
  };

  it('the matrix covers every route of the OpenAPI document', async () => {
    const document = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, object> };
    const documented = Object.entries(document.paths).flatMap(([p, m]) =>
      Object.keys(m).map((x) => `${x.toUpperCase()} ${p}`),
    );
    const covered = new Set(MATRIX.map((r) => r.route));
    expect(documented.filter((r) => !covered.has(r) && !r.startsWith('GET /problems/'))).toEqual([]);
  });

  for (const row of MATRIX) {
    it(row.route, async () => {
      const [method, template] = row.route.split(' ') as [string, string];
      const actual: Record<string, number> = {};
      for (const caller of CALLERS) {
        let path = template;
        if (template.includes('{id}') && row.setup !== 'none') {
          // Each caller gets a fresh service, so no call sees another's effects.
          const owner = caller === 'adminOwner' ? ADMIN_OWNER : OWNER;
          const state = await seedService(db, stateFor(row.setup, owner));
          path = template.replace('{id}', state.serviceId);
        }
        const headers = {
          ...(row.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...row.headers,
          ...(await headersFor[caller]()),
        };
        const response = await app.request(path, {
          method,
          headers,
          ...(row.body !== undefined ? { body: JSON.stringify(row.body) } : {}),
        });
        actual[caller] = response.status;
        if (response.status >= 400) {
          expect(response.headers.get('content-type'), `${caller}: problem+json`).toBe(
            'application/problem+json',
          );
        }
        if (row.route.endsWith('/approve') && caller === 'adminOwner') {
          expect(await response.json()).toMatchObject({ type: '/problems/self-approval', status: 403 });
        }
      }
      expect(actual).toEqual(row.expected);
    });
  }

  it('a token of a trusted issuer with another key is refused like a foreign one', async () => {
    const forged = await ids.impostor.sign(ADMIN, ['admin']);
    const response = await app.request('/v1/admin/review-queue', {
      headers: { Authorization: `Bearer ${forged}` },
    });
    expect(response.status).toBe(401);
    expect(TEST_ISSUER).toBe(ids.impostor.issuer);
  });
});
