import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentities, jsonRequest, systemApp, validRegistration } from '../test-support/api-harness.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import type { createApp } from './app.js';
import type { PresentedService } from './services/present.js';

/** A change to a live service over HTTP: PATCH opens it, the review sees a change with its policy diff. */
describe('changing a live service over HTTP', () => {
  let system: TestSystem;
  let app: ReturnType<typeof createApp>;
  let alice: Record<string, string>;
  let ada: Record<string, string>;

  beforeAll(async () => {
    system = await startTestSystem();
    const ids = await createIdentities();
    app = systemApp(system, ids);
    alice = await ids.bearer('alice', ['developer']);
    ada = await ids.bearer('ada', ['admin']);
  });
  afterAll(() => system?.stop());

  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    app.request(path, body === undefined ? { method, headers } : jsonRequest(method, body, headers));

  it('PATCH on an active service opens a pending change; the queue marks it; approval applies it', async () => {
    const created = (await (
      await call('POST', '/v1/backend-services', alice, validRegistration({ organizationId: 'org-payer-a' }))
    ).json()) as PresentedService;
    const path = `/v1/backend-services/${created.id}`;
    await call('POST', `${path}/submit`, alice);
    const review = async () =>
      (await (
        await call('GET', `/v1/admin/backend-services/${created.id}/production-policies`, ada)
      ).json()) as {
        revision: number;
        policyHash: string;
        change?: boolean;
        policyDiff?: {
          added: Array<{ id: string; reason: string }>;
          removed: unknown[];
          changed: unknown[];
        } | null;
      };
    const first = await review();
    expect(
      (
        await call('POST', `/v1/admin/backend-services/${created.id}/approve`, ada, {
          revision: first.revision,
          policyHash: first.policyHash,
        })
      ).status,
    ).toBe(202);
    for (
      let i = 0;
      i < 100 && ((await (await call('GET', path, alice)).json()) as PresentedService).status !== 'active';
      i++
    )
      await new Promise((r) => setTimeout(r, 100));

    const patched = await call(
      'PATCH',
      path,
      { ...alice, 'If-Match': '"1"' },
      {
        scopes: {
          version: 'v2',
          rules: [
            { resource: 'Patient', operations: ['read', 'search'] },
            { resource: 'Observation', operations: ['read'] },
          ],
        },
      },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get('ETag')).toBe('"2"');
    const body = (await patched.json()) as PresentedService;
    expect(body).toMatchObject({
      status: 'active',
      revision: 1,
      pendingChange: { revision: 2, state: 'draft' },
    });
    expect(body.scopes.strings).toEqual(['system/Patient.rs']);
    expect(body.pendingChange!.registration.scopes.strings).toEqual([
      'system/Observation.r',
      'system/Patient.rs',
    ]);
    // The old ETag no longer edits.
    expect((await call('PATCH', path, { ...alice, 'If-Match': '"1"' }, { name: 'x' })).status).toBe(412);

    expect((await call('POST', `${path}/submit`, alice)).status).toBe(200);
    // The queue is shared with other test files' services: page through it.
    let found: { id: string; change: boolean } | undefined;
    let cursor: string | null = null;
    do {
      const page = (await (
        await call('GET', `/v1/admin/review-queue?limit=100${cursor ? `&cursor=${cursor}` : ''}`, ada)
      ).json()) as { items: Array<{ id: string; change: boolean }>; nextCursor: string | null };
      found = page.items.find((i) => i.id === created.id);
      cursor = page.nextCursor;
    } while (!found && cursor);
    expect(found).toMatchObject({ change: true });
    const changeReview = await review();
    expect(changeReview).toMatchObject({ revision: 2, change: true });
    expect(changeReview.policyDiff!.added.map((p) => p.reason).join(' ')).toMatch(/Observation/);
    expect(
      (
        await call('POST', `/v1/admin/backend-services/${created.id}/approve`, ada, {
          revision: changeReview.revision,
          policyHash: changeReview.policyHash,
        })
      ).status,
    ).toBe(202);
    let now: PresentedService | undefined;
    for (let i = 0; i < 100; i++) {
      now = (await (await call('GET', path, alice)).json()) as PresentedService;
      if (now.revision === 2 && !now.pendingChange) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(now).toMatchObject({ status: 'active', revision: 2, pendingChange: null });
    expect(now!.scopes.strings).toEqual(['system/Observation.r', 'system/Patient.rs']);
  });
});
