import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathsOf, recordHistory } from '../../test-support/histories.js';
import { startKeyServer, type TestKeyServer } from '../../test-support/key-server.js';
import {
  historyOf,
  registration,
  startService,
  tokenWithSecret,
  updateFailure,
  waitForProjection,
} from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import {
  approveUpdate,
  deactivateUpdate,
  editUpdate,
  recheckCredentialsUpdate,
  rejectUpdate,
  rotateSecretUpdate,
  stateQuery,
  submitUpdate,
} from './messages.js';
import { CURRENT_RUN, FOLDED_PATCHES } from './patches.js';
import type { ServiceState } from './service-state.js';

/**
 * The paths of today's workflow code, each run for real and recorded (RECORD_HISTORIES=1) under
 * __histories__/current-*.json for the replay test: together with the older recordings they cover
 * every update and every activity type (replay.test.ts checks that against the code). Each test also
 * asserts what a user of the path sees, so it is a test of its own without recording.
 */
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

describe('recorded paths of the current workflow code', () => {
  let system: TestSystem;
  let keys: TestKeyServer;

  beforeAll(async () => {
    system = await startTestSystem();
    keys = await startKeyServer();
  });
  afterAll(async () => {
    await keys?.close();
    await system?.stop();
  });

  const sandbox = () => system.standins.sandbox.url;
  const production = () => system.standins.production.url;

  it('client secret: edit, rotation of a draft, submit, approve, rotation when active, deactivation first', async () => {
    const reg = registration({ type: 'client_secret' });
    const { serviceId, handle } = await startService(system, reg);
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    const first = await system.secretStore.reveal(serviceId, 1);

    await handle.executeUpdate(editUpdate, {
      args: [{ actor: alice, expectedRevision: 1, registration: { ...reg, name: 'Acme nightly' } }],
    });
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.revision === 2);

    // Rotation of a draft: only the sandbox holds the client; the old secret stops working there.
    const draftRotation = await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice }] });
    expect(draftRotation).toMatchObject({ status: 'draft', secretVersion: 2 });
    const second = await system.secretStore.reveal(serviceId, 2);
    expect((await tokenWithSecret(sandbox(), serviceId, first, 'system/Patient.rs')).status).toBe(400);
    expect((await tokenWithSecret(sandbox(), serviceId, second, 'system/Patient.rs')).status).toBe(200);

    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);
    await handle.executeUpdate(approveUpdate, {
      args: [{ actor: bob, revision: 2, policyHash: submission!.productionPolicies.policyHash }],
    });
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    expect((await tokenWithSecret(production(), serviceId, second, 'system/Patient.rs')).status).toBe(200);
    // Operators still find it by status (search attributes are upserted only when one changes). The
    // upsert is recorded when the workflow task completes, after the projection the wait above saw.
    const attribute = async (name: string) =>
      (await handle.describe()).typedSearchAttributes.get({ name, type: 'KEYWORD' } as never);
    for (let i = 0; i < 50 && (await attribute('BackendServiceStatus')) !== 'active'; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await attribute('BackendServiceStatus')).toBe('active');
    expect(await attribute('BackendServiceOwner')).toBe('alice');

    // Rotation of an active service: both boxes get the new secret, the old one is refused in both.
    const activeRotation = await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice }] });
    expect(activeRotation).toMatchObject({ status: 'active', secretVersion: 3 });
    const third = await system.secretStore.reveal(serviceId, 3);
    for (const box of [sandbox(), production()]) {
      expect((await tokenWithSecret(box, serviceId, second, 'system/Patient.rs')).status).toBe(400);
      expect((await tokenWithSecret(box, serviceId, third, 'system/Patient.rs')).status).toBe(200);
    }

    await handle.executeUpdate(deactivateUpdate, { args: [{ actor: bob, reason: 'contract ended' }] });
    const final = (await handle.result()) as ServiceState;
    expect(final).toMatchObject({ status: 'rejected', cleanup: { done: true } });
    expect((await tokenWithSecret(production(), serviceId, third, 'system/Patient.rs')).status).toBe(400);
    expect((await historyOf(system.db, serviceId)).map((h) => h.action)).toEqual([
      'create',
      'edit',
      'rotate-secret',
      'submit',
      'approve',
      'approval-completed',
      'rotate-secret',
      'deactivate',
    ]);
    // A run of today's code records the one marker that stands for every patch, the queue-jumping
    // deactivation's among them (workflows/backend-service/patches.ts), and no marker of its own.
    const paths = pathsOf(await handle.fetchHistory());
    expect([...paths.patches]).toEqual([CURRENT_RUN]);
    expect(FOLDED_PATCHES.has('deactivation-first')).toBe(true);
    // This test system's worker has no SMTP server and no notification settings: no delivery is
    // started (notifications.test.ts, with both, sees every mail and webhook of the path).
    expect(paths.activities).not.toContain('sendNotificationMail');
    expect(paths.activities).not.toContain('deliverNotificationWebhook');
    await recordHistory(handle, 'folded-secret-lifecycle.json');
  });

  it('JWKS: recheck after a failing key server, submit, reject', async () => {
    const { serviceId, handle } = await startService(
      system,
      registration({ type: 'jwks_uri', jwksUri: keys.jwksUri }),
    );
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    keys.publish({ keys: [] });
    const failed = await updateFailure(handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] }));
    expect(failed.type).toBe('CredentialsInvalid');
    keys.restore();
    const rechecked = await handle.executeUpdate(recheckCredentialsUpdate, { args: [{ actor: alice }] });
    expect(rechecked).toMatchObject({ status: 'draft' });
    expect((await handle.query(stateQuery)).credentials.state).toBe('valid');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const rejected = await handle.executeUpdate(rejectUpdate, {
      args: [{ actor: bob, reason: 'scopes too broad' }],
    });
    expect(rejected.status).toBe('rejected');
    expect((await historyOf(system.db, serviceId)).map((h) => h.action)).toEqual([
      'create',
      'submit',
      'reject',
    ]);
    await recordHistory(handle, 'folded-jwks-recheck-reject.json');
  });
});
