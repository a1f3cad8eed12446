import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../db/database.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import { PROBLEM_TYPES, problemTypeUri, type ProblemName } from './problems.js';
import { DOCS_ASSET_PATH } from './routes/docs.js';
import { buildApp, createIdentities, testConfig } from '../test-support/api-harness.js';

/** docs/api.md's route table: the contract the portal relies on. */
const API_MD_ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'GET /docs',
  'GET /v1/organizations',
  'POST /v1/backend-services',
  'GET /v1/backend-services',
  'GET /v1/backend-services/{id}',
  'PATCH /v1/backend-services/{id}',
  'POST /v1/backend-services/{id}/submit',
  'POST /v1/backend-services/{id}/rotate-secret',
  'GET /v1/backend-services/{id}/history',
  'GET /v1/backend-services/{id}/jwks-report',
  'POST /v1/backend-services/{id}/assertion-check',
  'GET /v1/admin/review-queue',
  'GET /v1/admin/backend-services',
  'GET /v1/admin/backend-services/{id}/production-policies',
  'POST /v1/admin/backend-services/{id}/approve',
  'POST /v1/admin/backend-services/{id}/reject',
  'POST /v1/admin/backend-services/{id}/deactivate',
];

describe('the OpenAPI document and the registered routes', async () => {
  const config = testConfig();
  const db = createDb(config.DATABASE_URL, { poolSize: 1 });
  const temporal = createTemporalClient(config);
  afterAll(async () => {
    await db.destroy();
    await temporal.connection.close().catch(() => undefined);
  });
  const app = buildApp(db, temporal, await createIdentities(), { config });
  const document = (await (await app.request('/openapi.json')).json()) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    components: {
      schemas: Record<string, { description?: string; properties?: Record<string, { enum?: string[] }> }>;
    };
  };

  const documented = new Set(
    Object.entries(document.paths).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
    ),
  );
  // Hono's own table: every route a request can reach (middleware entries have method ALL). The
  // HTML pages mounted on the same app (ui/: /portal, /admin, /login…) and the docs' static files
  // are not API routes; everything else must be documented.
  const isPage = (path: string) =>
    path === DOCS_ASSET_PATH ||
    path === '/favicon.ico' ||
    /^\/(portal|admin|login|logout|ui-assets)(\/|$)/.test(path);
  const registered = new Set(
    app.routes
      .filter((r) => r.method !== 'ALL' && !isPage(r.path))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
  );

  it('documents every registered route', () => {
    expect([...registered].filter((r) => !documented.has(r))).toEqual([]);
  });

  it('registers every documented route', () => {
    expect([...documented].filter((r) => !registered.has(r))).toEqual([]);
  });

  it("holds every route of docs/api.md's table", () => {
    expect(API_MD_ROUTES.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('lists every problem type URI', () => {
    const listed = document.components.schemas.Problem?.properties?.type?.enum ?? [];
    expect(new Set(listed)).toEqual(
      new Set(Object.keys(PROBLEM_TYPES).map((n) => problemTypeUri(n as ProblemName))),
    );
  });

  it('is OpenAPI 3.1 with the bearer scheme', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(JSON.stringify(document)).toContain('"bearerAuth"');
  });

  it('serves /docs from local assets only (no CDN)', async () => {
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(2);
    for (const source of sources) {
      expect(source.startsWith('/docs/assets/')).toBe(true);
      const asset = await app.request(source);
      expect(asset.status, source).toBe(200);
    }
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('resolves each problem type URI', async () => {
    for (const name of Object.keys(PROBLEM_TYPES)) {
      const response = await app.request(problemTypeUri(name as ProblemName));
      expect(response.status).toBe(200);
    }
  });
});
