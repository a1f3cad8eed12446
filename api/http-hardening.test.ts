import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { AidboxClient } from '../aidbox/client.js';
import { startStandin } from '../aidbox-standin/server.js';
import { localhostOnlyResolver } from '../platform/network.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import { BODY_LIMIT_BYTES, jsonDepthExceeds, MAX_JSON_DEPTH } from './http-limits.js';
import { aidboxOrganizationDirectory, type OrganizationDirectory } from './organizations.js';
import { rulesOnlyCommands } from '../test-support/rules-only-commands.js';
import {
  buildApp,
  createIdentities,
  jsonRequest,
  routeTestResources,
  seedService,
  serviceState,
  testConfig,
  testSecretStore,
  validRegistration,
} from '../test-support/api-harness.js';

/**
 * The HTTP hardening of issue 14: bounded bodies (measured in the process's RSS), bounded nesting,
 * forged cursors, Organization IDs that name no Organization, the nested-Organization flag, headers.
 */
const MB = 1024 * 1024;

/**
 * Streams `total` bytes (chunked, no Content-Length unless asked), as a client that does not stop
 * when answered would: it keeps writing until all is sent or the server closes the connection.
 */
function streamBody(
  url: string,
  options: { total: number; headers?: Record<string, string>; contentLength?: boolean },
): Promise<{ status: number; body: string; sent: number }> {
  const chunk = Buffer.alloc(64 * 1024, 0x61); // one buffer, written again and again
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answer: { status: number; body: string } | undefined;
    let writing = true;
    const settle = () => {
      if (answer && !writing) resolve({ ...answer, sent });
    };
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        ...options.headers,
        ...(options.contentLength ? { 'Content-Length': String(options.total) } : {}),
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, body };
        settle();
      });
    });
    // The server may close the connection once it has answered: that is the point.
    req.on('error', (error) => {
      writing = false;
      if (answer) settle();
      else setTimeout(() => (answer ? settle() : reject(error)), 200);
    });
    req.on('close', () => {
      writing = false;
      settle();
    });
    const pump = () => {
      while (writing && sent < options.total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (writing) req.end(() => ((writing = false), settle()));
    };
    pump();
  });
}

/** The largest growth of this process's RSS above its level at the start, while `work` runs. */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ growth: number; result: T }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { growth: peak - start, result };
  } finally {
    clearInterval(timer);
  }
}

async function listen(fetch: (request: Request) => Response | Promise<Response>) {
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('HTTP hardening', async () => {
  const { config, db, temporal } = routeTestResources(testConfig({ PRODUCTION_ORGBAC: 'true' }));
  const ids = await createIdentities();
  const secrets = testSecretStore(db);
  const lookups: string[] = [];
  const organizations: OrganizationDirectory = {
    list: async () => ({ items: [], nextCursor: null }),
    exists: async (id) => (lookups.push(id), true),
    descendants: async () => [],
  };
  const app = buildApp(db, temporal, ids, {
    config,
    secrets,
    organizations,
    commands: rulesOnlyCommands(db, secrets),
  });
  const owner = `hard-${randomBytes(4).toString('hex')}`;
  const developer = await ids.bearer(owner, ['developer']);
  const admin = await ids.bearer('hard-admin', ['admin']);
  const server = await listen(app.fetch);
  afterAll(() => server.close());

  describe('bodies are bounded before anything parses them', () => {
    const HUNDRED_MB = 100 * MB;

    it('a streamed 100 MB JSON body gets 413 and the process grows by less than 32 MB', async () => {
      const { growth, result } = await peakRssGrowth(() =>
        streamBody(`${server.url}/v1/backend-services`, {
          total: HUNDRED_MB,
          headers: { ...developer, 'Content-Type': 'application/json' },
        }),
      );
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body)).toMatchObject({ type: '/problems/payload-too-large', status: 413 });
      expect(growth).toBeLessThan(32 * MB);
      console.log(
        `100 MB JSON: sent ${(result.sent / MB).toFixed(1)} MB, RSS grew ${(growth / MB).toFixed(1)} MB`,
      );
    });

    it('so does a 100 MB form post to /login/dev, unauthenticated, before the CSRF check', async () => {
      const { growth, result } = await peakRssGrowth(() =>
        streamBody(`${server.url}/login/dev`, {
          total: HUNDRED_MB,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        }),
      );
      expect(result.status).toBe(413);
      expect(growth).toBeLessThan(32 * MB);
      console.log(
        `100 MB form: sent ${(result.sent / MB).toFixed(1)} MB, RSS grew ${(growth / MB).toFixed(1)} MB`,
      );
    });

    it('a declared Content-Length over the limit is refused without reading', async () => {
      const result = await streamBody(`${server.url}/v1/backend-services`, {
        total: HUNDRED_MB,
        contentLength: true,
        headers: { ...developer, 'Content-Type': 'application/json' },
      });
      expect(result.status).toBe(413);
    });

    it('negative controls: a body just under the limit is read; the measurement sees buffering', async () => {
      // Under the limit: the route's own validation answers (a 400 naming fields), not 413.
      const padded = { ...validRegistration(), description: 'x'.repeat(BODY_LIMIT_BYTES - 1024) };
      const under = await app.request('/v1/backend-services', jsonRequest('POST', padded, developer));
      expect(under.status).toBe(400);
      expect(JSON.stringify(await under.json())).toContain('/description');
      // An app that buffers whole bodies grows well past 32 MB on 64 MB: the RSS check can fail.
      const naive = new Hono().post('/', async (c) => c.text(String((await c.req.text()).length)));
      const bare = await listen(naive.fetch);
      try {
        const { growth, result } = await peakRssGrowth(() =>
          streamBody(bare.url, { total: 64 * MB, headers: { 'Content-Type': 'text/plain' } }),
        );
        expect(result.status).toBe(200);
        expect(growth).toBeGreaterThan(32 * MB);
        console.log(`control, buffering app: RSS grew ${(growth / MB).toFixed(1)} MB on 64 MB`);
      } finally {
        await bare.close();
      }
    });
  });

  describe('odd input is a 400, not a 500', () => {
    it('a PATCH body nested 20,000 levels deep gets a field-less 400', async () => {
      const draft = await seedService(db, serviceState({ ownerId: owner }));
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      expect(deep.length).toBeLessThan(BODY_LIMIT_BYTES);
      const response = await app.request(`/v1/backend-services/${draft.serviceId}`, {
        method: 'PATCH',
        headers: { ...developer, 'Content-Type': 'application/merge-patch+json', 'If-Match': '"1"' },
        body: deep,
      });
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { type: string; detail: string; errors?: unknown };
      expect(problem.type).toBe('/problems/validation-error');
      expect(problem.detail).toContain('nested more than 32 levels');
      expect(problem.errors).toBeUndefined();
      // Negative control: 32 levels pass the depth check and reach the route's own validation.
      const shallow = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
      const control = await app.request(`/v1/backend-services/${draft.serviceId}`, {
        method: 'PATCH',
        headers: { ...developer, 'Content-Type': 'application/merge-patch+json', 'If-Match': '"1"' },
        body: shallow,
      });
      expect(control.status).toBe(400);
      expect(((await control.json()) as { detail: string }).detail).not.toContain('nested');
    });

    it('depth counting skips brackets inside strings', () => {
      expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[[[' }), 2)).toBe(false);
      expect(jsonDepthExceeds(JSON.stringify({ a: '\\"[[[' }), 2)).toBe(false);
      expect(jsonDepthExceeds('[[[]]]', 2)).toBe(true);
    });

    it('a forged cursor on both list routes is a 400 naming cursor; a real one works', async () => {
      const now = Date.now();
      for (let i = 0; i < 2; i++) {
        const state = serviceState({ ownerId: owner });
        await seedService(db, {
          ...state,
          status: 'under_review',
          createdAt: new Date(now - 10_000 + i).toISOString(),
          submission: {
            revision: 1,
            submittedAt: new Date(now - 5_000 + i).toISOString(),
            submittedBy: owner,
            registration: state.registration,
            productionPolicies: { policies: [], policyHash: 'f'.repeat(64), notes: [] },
          },
        });
      }
      const forged = [
        Buffer.from(JSON.stringify({ c: '1', i: 'x' })).toString('base64url'),
        Buffer.from(JSON.stringify({ s: '1', i: 'x' })).toString('base64url'),
        Buffer.from(JSON.stringify({ c: '2026-02-30T00:00:00.000Z', i: 'bs-abc' })).toString('base64url'),
        Buffer.from('null').toString('base64url'),
        'not-base64-json',
      ];
      for (const [path, headers] of [
        ['/v1/backend-services', developer],
        ['/v1/admin/review-queue', admin],
      ] as const) {
        for (const cursor of forged) {
          const response = await app.request(`${path}?cursor=${cursor}`, { headers });
          expect(response.status, `${path} ${cursor}`).toBe(400);
          expect(await response.json()).toMatchObject({
            type: '/problems/validation-error',
            errors: [{ field: 'cursor' }],
          });
        }
        // Negative control: the cursor the API itself returned pages on.
        const first = (await (await app.request(`${path}?limit=1`, { headers })).json()) as {
          nextCursor: string;
        };
        expect(first.nextCursor).toEqual(expect.any(String));
        const next = await app.request(`${path}?limit=1&cursor=${first.nextCursor}`, { headers });
        expect(next.status).toBe(200);
      }
    });

    it("Organization IDs '.', '..', 'a/b' and 65 characters are refused before any lookup", async () => {
      for (const organizationId of ['.', '..', 'a/b', 'a'.repeat(65)]) {
        const response = await app.request(
          '/v1/backend-services',
          jsonRequest('POST', validRegistration({ organizationId }), developer),
        );
        expect(response.status, organizationId).toBe(400);
        expect(await response.json()).toMatchObject({ errors: [{ field: '/organizationId' }] });
      }
      expect(lookups).toEqual([]);
      // Negative control: a FHIR id with a dot is looked up and accepted.
      const response = await app.request(
        '/v1/backend-services',
        jsonRequest('POST', validRegistration({ organizationId: 'org.a-1' }), developer),
      );
      expect(response.status).toBe(201);
      expect(lookups).toEqual(['org.a-1']);
    });
  });

  it('a binding to an Organization with children is flagged and names them; one without is not', async () => {
    const rootClientSecret = randomBytes(18).toString('base64url');
    const standin = await startStandin({
      rootClientSecret,
      orgbac: true,
      appMode: 'development',
      resolver: localhostOnlyResolver,
    });
    try {
      const production = new AidboxClient(
        {
          name: 'production',
          baseUrl: standin.url,
          publicUrl: standin.url,
          clientId: 'root',
          clientSecret: rootClientSecret,
          orgbac: true,
        },
        { timeoutMs: 3_000 },
      );
      const withStandin = buildApp(db, temporal, ids, {
        config,
        secrets,
        organizations: aidboxOrganizationDirectory(production),
      });
      const policiesOf = async (organizationId: string) => {
        const base = serviceState({ ownerId: owner });
        const registration = { ...base.registration, organizationId };
        const state: ServiceState = await seedService(db, {
          ...base,
          registration,
          status: 'under_review',
          submission: {
            revision: 1,
            submittedAt: new Date().toISOString(),
            submittedBy: owner,
            registration,
            productionPolicies: { policies: [], policyHash: 'f'.repeat(64), notes: [] },
          },
        });
        const response = await withStandin.request(
          `/v1/admin/backend-services/${state.serviceId}/production-policies`,
          { headers: admin },
        );
        expect(response.status).toBe(200);
        return (await response.json()) as {
          notes: string[];
          riskFlags: Array<{ code: string; message: string; organizations?: string[] }>;
        };
      };
      const parent = await policiesOf('org-payer-a');
      const flag = parent.riskFlags.find((f) => f.code === 'organization-includes-children');
      expect(flag?.message).toContain('org-payer-a-east');
      expect(flag?.organizations).toEqual(['org-payer-a', 'org-payer-a-east']);
      expect(parent.notes.join(' ')).toContain('includes the Organizations nested under');
      expect(parent.notes.join(' ')).toContain('org-payer-a-east');

      const leaf = await policiesOf('org-payer-b');
      expect(leaf.riskFlags.map((f) => f.code)).not.toContain('organization-includes-children');

      // The Organization list's cursor is a page number we issued; anything else is a 400 too.
      for (const cursor of ['abc', '0', '1e3', '9999999']) {
        const forged = await withStandin.request(`/v1/organizations?limit=1&cursor=${cursor}`, {
          headers: developer,
        });
        expect(forged.status, cursor).toBe(400);
        expect(await forged.json()).toMatchObject({ errors: [{ field: 'cursor' }] });
      }
      const page2 = await withStandin.request('/v1/organizations?limit=1&cursor=2', { headers: developer });
      expect(page2.status).toBe(200);
    } finally {
      await standin.stop();
    }
  });

  describe('headers', () => {
    it('HSTS when PUBLIC_URL is https, not over plain http; /docs may not be framed', async () => {
      const https = buildApp(db, temporal, ids, {
        config: testConfig({ PUBLIC_URL: 'https://registry.payerbox.test' }),
      });
      for (const path of ['/healthz', '/portal', '/v1/backend-services']) {
        const response = await https.request(path);
        expect(response.headers.get('strict-transport-security'), path).toBe('max-age=31536000');
      }
      // Negative control: plain http (the default test config) gets no HSTS.
      expect((await app.request('/healthz')).headers.get('strict-transport-security')).toBeNull();
      const docs = await app.request('/docs');
      expect(docs.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    });
  });
});
