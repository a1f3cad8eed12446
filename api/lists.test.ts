import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/database.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import {
  buildApp,
  createIdentities,
  seedService,
  serviceState,
  testConfig,
} from '../test-support/api-harness.js';

describe('lists: keyset pages, filters, the review queue', async () => {
  const config = testConfig({ PRODUCTION_ORGBAC: 'true' });
  const db = createDb(config.DATABASE_URL, { poolSize: 2 });
  const temporal = createTemporalClient(config);
  afterAll(async () => {
    await db.destroy();
    await temporal.connection.close().catch(() => undefined);
  });
  const ids = await createIdentities();
  const now = Date.now();
  const fixedNow = new Date(now);
  const app = buildApp(db, temporal, ids, { config, now: () => fixedNow });
  const owner = `lister-${randomUUID().slice(0, 8)}`;
  const org = `org-${randomUUID().slice(0, 8)}`;
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
  const created: ServiceState[] = [];
  for (let i = 0; i < 5; i++) {
    const state = serviceState({ ownerId: owner, createdAt: at(100 - i), updatedAt: at(100 - i) });
    created.push(
      await seedService(db, {
        ...state,
        registration: { ...state.registration, organizationId: i % 2 ? org : null },
      }),
    );
  }
  // Two under review, submitted 60 s and 30 s ago.
  for (const [index, secondsAgo] of [
    [3, 30],
    [1, 60],
  ] as const) {
    const s = created[index]!;
    await seedService(db, {
      ...s,
      status: 'under_review',
      projectionVersion: 2,
      submission: {
        revision: 1,
        submittedAt: at(secondsAgo),
        submittedBy: owner,
        registration: s.registration,
        productionPolicies: { policies: [], policyHash: 'f'.repeat(64), notes: [] },
      },
    });
  }
  const developer = await ids.bearer(owner, ['developer']);
  const admin = await ids.bearer('list-admin', ['admin']);
  const get = async (path: string, headers: Record<string, string>) => {
    const response = await app.request(path, { headers });
    expect(response.status, path).toBe(200);
    return (await response.json()) as {
      items: Array<{ id: string; waitingSeconds?: number; environments: unknown }>;
      nextCursor: string | null;
    };
  };

  /** The whole review queue, page by page: services other test files submit share it. */
  const wholeQueue = async () => {
    const items: Awaited<ReturnType<typeof get>>['items'] = [];
    let cursor: string | null = null;
    do {
      const page = await get(
        `/v1/admin/review-queue?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        admin,
      );
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  };

  it('pages own services newest first without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/backend-services?limit=2${cursor ? `&cursor=${cursor}` : ''}`, developer);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(created.map((s) => s.serviceId).reverse());
  });

  it('filters by status', async () => {
    const page = await get('/v1/backend-services?status=under_review', developer);
    expect(page.items.map((s) => s.id).sort()).toEqual([created[1]!.serviceId, created[3]!.serviceId].sort());
  });

  it('filters the admin list by owner, organization and status', async () => {
    expect((await get(`/v1/admin/backend-services?ownerId=${owner}`, admin)).items).toHaveLength(5);
    expect(
      (await get(`/v1/admin/backend-services?organizationId=${org}`, admin)).items.map((s) => s.id),
    ).toEqual([created[3]!.serviceId, created[1]!.serviceId]);
    expect((await get(`/v1/admin/backend-services?ownerId=${owner}&status=draft`, admin)).items).toHaveLength(
      3,
    );
  });

  it('the review queue is oldest submission first, with waiting time', async () => {
    const mine = (await wholeQueue()).filter((s) =>
      [created[1]!.serviceId, created[3]!.serviceId].includes(s.id),
    );
    expect(mine.map((s) => [s.id, s.waitingSeconds])).toEqual([
      [created[1]!.serviceId, 60],
      [created[3]!.serviceId, 30],
    ]);
  });

  it('shows production URLs under the Organization only once active (OrgBAC on)', async () => {
    const state = serviceState({ ownerId: owner, status: 'active', productionProvisioned: true });
    await seedService(db, {
      ...state,
      registration: { ...state.registration, organizationId: 'org-payer-a' },
    });
    const response = await app.request(`/v1/backend-services/${state.serviceId}`, { headers: developer });
    expect(response.headers.get('etag')).toBe('"1"');
    expect(((await response.json()) as { environments: unknown }).environments).toEqual({
      sandbox: {
        fhirBaseUrl: 'https://sandbox.payerbox.test/fhir',
        smartConfigurationUrl: 'https://sandbox.payerbox.test/fhir/.well-known/smart-configuration',
        tokenUrl: 'https://sandbox.payerbox.test/auth/token',
        capabilityStatementUrl: 'https://sandbox.payerbox.test/fhir/metadata',
        scope: state.registration.scopes.strings.join(' '),
        bulkExportKickOffUrl: 'https://sandbox.payerbox.test/fhir/$export?_type=Patient',
      },
      sandboxReason: null,
      production: {
        fhirBaseUrl: 'https://fhir.payerbox.test/Organization/org-payer-a/fhir',
        // A SMART client derives discovery from the FHIR base it is given.
        smartConfigurationUrl:
          'https://fhir.payerbox.test/Organization/org-payer-a/fhir/.well-known/smart-configuration',
        tokenUrl: 'https://fhir.payerbox.test/auth/token',
        capabilityStatementUrl: 'https://fhir.payerbox.test/Organization/org-payer-a/fhir/metadata',
        scope: state.registration.scopes.strings.join(' '),
        bulkExportKickOffUrl:
          'https://fhir.payerbox.test/Organization/org-payer-a/fhir/$export?_type=Patient',
      },
    });
  });
  it('a list item (read from the summary column) is the detail, for a state with every part lists leave out', async () => {
    const at0 = at(50);
    const report = {
      valid: true,
      summary: 'Valid: 1 usable key.',
      jwksUri: 'https://keys.acme.example/jwks.json',
      checkedAt: at0,
      fetch: null,
      findings: [],
      keys: [],
      thumbprints: { k1: 't'.repeat(43) },
    };
    const submission = {
      revision: 1,
      submittedAt: at(40),
      submittedBy: owner,
      registration: serviceState({ ownerId: owner }).registration,
      productionPolicies: { policies: [], policyHash: 'e'.repeat(64), notes: ['a note'] },
    };
    const base = serviceState({ ownerId: owner, createdAt: at(200), updatedAt: at0 });
    const rich: ServiceState = {
      ...base,
      status: 'active',
      productionProvisioned: true,
      submission,
      previousSubmission: submission,
      credentials: {
        ...base.credentials,
        jwksReport: report,
        acceptedThumbprints: report.thumbprints,
        stagedSecret: null,
        highestSecretVersion: 1,
        health: {
          state: 'failing',
          since: at0,
          lastCheckedAt: at0,
          nextCheckAt: at(-3600),
          failures: 2,
          report,
          changes: [{ kid: 'k1', change: 'removed', message: 'gone' }],
        },
      },
      pendingChange: {
        revision: 2,
        state: 'under_review',
        registration: { ...base.registration, name: 'Acme bulk export v2' },
        credentials: { state: 'valid', checkedAt: at0, jwksReport: report, acceptedThumbprints: {} },
        submission: { ...submission, revision: 2, submittedAt: at(20) },
        rejection: null,
      },
      cleanup: { done: false, lastError: null },
    };
    await seedService(db, rich);
    // The detail adds what its caller may do (allowedActions, refusedActions); the rest is the service.
    const { allowedActions, refusedActions, ...detail } = (await (
      await app.request(`/v1/backend-services/${rich.serviceId}`, { headers: developer })
    ).json()) as Record<string, unknown>;
    expect(allowedActions).toEqual(expect.any(Array));
    expect(refusedActions).toEqual(expect.any(Array));
    const listed = (await get(`/v1/admin/backend-services?ownerId=${owner}&limit=100`, admin)).items.find(
      (s) => s.id === rich.serviceId,
    );
    expect(listed).toEqual(detail);
    const queued = (await wholeQueue()).find((s) => s.id === rich.serviceId);
    expect(queued).toMatchObject({ ...(detail as object), submittedAt: at(20), change: true });
    const { rows } = await sql<{ summary: Record<string, unknown> }>`
      select summary from backend_services where id = ${rich.serviceId}`.execute(db);
    const summary = rows[0]!.summary as { credentials: object };
    for (const left of ['submission', 'previousSubmission', 'cleanup'])
      expect(summary).not.toHaveProperty(left);
    expect(summary.credentials).not.toHaveProperty('jwksReport');
    expect(summary.credentials).not.toHaveProperty('acceptedThumbprints');
  });

  it('a listed item presented before is listed anew once its row is written again, also at the same projection version', async () => {
    const { serviceId } = created[0]!;
    const name = async () =>
      (
        (await get(`/v1/backend-services?limit=100`, developer)).items as Array<{ id: string; name?: string }>
      ).find((s) => s.id === serviceId)?.name;
    const before = await name();
    expect(await name()).toBe(before);
    await sql`update backend_services set state = jsonb_set(state, '{registration,name}', to_jsonb('Renamed in place'::text))
              where id = ${serviceId}`.execute(db);
    expect(await name()).toBe('Renamed in place');
  });
});
