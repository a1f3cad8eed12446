import fc from 'fast-check';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.js';
import { propertySeed } from '../test-support/seed.js';
import { rulesOnlyCommands } from '../test-support/rules-only-commands.js';
import {
  buildApp,
  createIdentities,
  seedService,
  serviceState,
  testSecretStore,
  validRegistration,
  routeTestResources,
} from '../test-support/api-harness.js';

/** No input produces a 500 (docs/architecture.md, Refusals): the last-resort handler is never reached. */
describe('fuzzed requests never reach the last-resort 500', async () => {
  const { config, db, temporal } = routeTestResources();
  const ids = await createIdentities();
  const secrets = testSecretStore(db);
  const logs: string[] = [];
  const log = createLogger(
    'fuzz',
    'info',
    new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }),
  );
  const app = buildApp(db, temporal, ids, { config, secrets, commands: rulesOnlyCommands(db, secrets), log });
  const owner = await ids.bearer('fuzz-owner', ['developer', 'admin']);
  const admin = await ids.bearer('fuzz-admin', ['admin']);
  const draft = await seedService(db, serviceState({ ownerId: 'fuzz-owner' }));
  const review = await seedService(db, serviceState({ ownerId: 'fuzz-owner', status: 'under_review' }));

  const valid = validRegistration();
  // Mostly-valid registrations with one part replaced by anything, plus arbitrary JSON.
  const body = fc.oneof(
    fc.jsonValue(),
    fc
      .record({ key: fc.constantFrom(...Object.keys(valid), 'extra'), value: fc.jsonValue() })
      .map(({ key, value }) => ({ ...valid, [key]: value })),
    fc
      .record({ resource: fc.string(), operations: fc.array(fc.string()) })
      .map((rule) => ({ ...valid, scopes: { version: 'v2', rules: [rule] } })),
  );
  const targets = [
    { method: 'POST', path: '/v1/backend-services', headers: owner },
    {
      method: 'PATCH',
      path: `/v1/backend-services/${draft.serviceId}`,
      headers: { ...owner, 'If-Match': '"1"' },
    },
    { method: 'POST', path: `/v1/backend-services/${draft.serviceId}/assertion-check`, headers: owner },
    { method: 'POST', path: `/v1/admin/backend-services/${review.serviceId}/approve`, headers: admin },
    { method: 'POST', path: `/v1/admin/backend-services/${review.serviceId}/reject`, headers: admin },
  ];

  it('bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), body, fc.boolean(), async (target, json, asText) => {
        const response = await app.request(target.path, {
          method: target.method,
          headers: { ...target.headers, 'Content-Type': 'application/json' },
          body: asText ? JSON.stringify(json).slice(0, -1) : JSON.stringify(json),
        });
        expect(response.status).not.toBe(500);
        if (response.status >= 400)
          expect(response.headers.get('content-type')).toBe('application/problem+json');
      }),
      { numRuns: 150, seed: propertySeed('api fuzz bodies', 20_261_123) },
    );
  });

  it('paths, queries and headers', async () => {
    const segment = fc.string({ maxLength: 40 }).map(encodeURIComponent);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/backend-services',
          '/v1/admin/backend-services',
          '/v1/admin/review-queue',
          '/v1/organizations',
        ),
        segment,
        fc.dictionary(
          fc.constantFrom('limit', 'cursor', 'status', 'ownerId', 'search'),
          fc.string({ maxLength: 30 }),
        ),
        fc.string({ maxLength: 300 }),
        async (base, id, query, key) => {
          const qs = new URLSearchParams(query).toString();
          for (const path of [
            `${base}?${qs}`,
            `/v1/backend-services/${id}`,
            `/v1/backend-services/${id}/history?${qs}`,
          ]) {
            const response = await app.request(path, { headers: { ...owner, 'Idempotency-Key': key } });
            expect(response.status).not.toBe(500);
          }
          const odd = await app.request('/v1/backend-services', {
            headers: { Authorization: `Bearer ${key}` },
          });
          expect(odd.status).toBe(401);
        },
      ),
      { numRuns: 100, seed: propertySeed('api fuzz paths', 20_261_124) },
    );
    expect(logs.filter((l) => l.includes('unhandled error'))).toEqual([]);
  });
});
