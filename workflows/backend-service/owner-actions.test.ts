import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHistory } from '../../test-support/histories.js';
import {
  fhirGet,
  historyOf,
  registration,
  startService,
  tokenWithSecret,
  updateFailure,
  waitForProjection,
} from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import {
  activateStagedSecretUpdate,
  approveUpdate,
  deleteUpdate,
  dropStagedSecretUpdate,
  revokeUpdate,
  rotateSecretUpdate,
  stateQuery,
  submitUpdate,
  withdrawUpdate,
} from './messages.js';
import type { WorkflowHandle } from '@temporalio/client';
import type { backendService } from './workflow.js';

/**
 * The owner's undo and emergency controls on real Temporal, PostgreSQL and Aidbox stand-ins:
 * withdraw, delete, revoke, and rotations that cut earlier tokens off or wait for their time.
 */
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };
const WITHIN_MS = 10_000;

describe("the owner's controls", () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem();
  });
  afterAll(() => system?.stop());

  const url = (env: 'sandbox' | 'production') => system.standins[env].url;

  async function activate(handle: WorkflowHandle<typeof backendService>, serviceId: string) {
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);
    await handle.executeUpdate(approveUpdate, {
      args: [
        { actor: bob, revision: submission!.revision, policyHash: submission!.productionPolicies.policyHash },
      ],
    });
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
  }

  const accessToken = async (env: 'sandbox' | 'production', serviceId: string, secret: string) => {
    const answer = await tokenWithSecret(url(env), serviceId, secret, 'system/Patient.rs');
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { access_token: string }).access_token;
  };
  const patientRead = (env: 'sandbox' | 'production', token: string) =>
    fhirGet(
      url(env),
      env === 'production' ? '/Organization/org-payer-a/fhir/Patient' : '/fhir/Patient',
      token,
    );

  it('withdraw: under review back to draft, the approval that was coming is refused, then resubmit', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);
    const withdrawn = await handle.executeUpdate(withdrawUpdate, { args: [{ actor: alice }] });
    expect(withdrawn.status).toBe('draft');
    const approve = await updateFailure(
      handle.executeUpdate(approveUpdate, {
        args: [{ actor: bob, revision: 1, policyHash: submission!.productionPolicies.policyHash }],
      }),
    );
    expect(approve.type).toBe('InvalidTransition');
    // Withdrawing again, or something never submitted, is refused on state alone.
    expect(
      (await updateFailure(handle.executeUpdate(withdrawUpdate, { args: [{ actor: alice }] }))).type,
    ).toBe('InvalidTransition');
    const resubmitted = await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    expect(resubmitted.status).toBe('under_review');
    const row = await waitForProjection(system.db, serviceId, (s) => s.status === 'under_review');
    expect(row.submission?.revision).toBe(1);
    expect(
      (await historyOf(system.db, serviceId)).map((h) => [h.action, h.from_status, h.to_status]),
    ).toEqual([
      ['create', null, 'draft'],
      ['submit', 'draft', 'under_review'],
      ['withdraw', 'under_review', 'draft'],
      ['submit', 'draft', 'under_review'],
    ]);
    await recordHistory(handle, 'current-withdraw.json');
  });

  it('delete: a draft loses its sandbox client and stored secret, and the workflow completes; a live service is refused', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    const secret = await system.secretStore.reveal(serviceId, 1);
    const token = await accessToken('sandbox', serviceId, secret);
    await handle.executeUpdate(deleteUpdate, { args: [{ actor: alice }] });
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'draft', deletedAt: expect.any(String) });
    expect((await tokenWithSecret(url('sandbox'), serviceId, secret, 'system/Patient.rs')).status).toBe(400);
    expect((await patientRead('sandbox', token)).status).toBe(401);
    expect(await system.aidbox.sandbox.readClient(serviceId)).toBeUndefined();
    const row = await system.db
      .selectFrom('backend_services')
      .select(['deleted_at', 'status'])
      .where('id', '=', serviceId)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    const stored = await system.db
      .selectFrom('client_secret')
      .select('ciphertext')
      .where('service_id', '=', serviceId)
      .execute();
    expect(stored.every((s) => s.ciphertext === null)).toBe(true);
    await recordHistory(handle, 'current-delete.json');

    // A live service is never deleted: it is revoked or deactivated.
    const live = await startService(system, registration({ type: 'client_secret' }));
    await activate(live.handle, live.serviceId);
    expect(
      (await updateFailure(live.handle.executeUpdate(deleteUpdate, { args: [{ actor: alice }] }))).type,
    ).toBe('InvalidTransition');
  });

  it("the owner's revoke cuts production off within 10 s, earlier tokens included, and is final", async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await activate(handle, serviceId);
    const secret = await system.secretStore.reveal(serviceId, 1);
    const earlier = await accessToken('production', serviceId, secret);
    const since = Date.now();
    await handle.executeUpdate(revokeUpdate, { args: [{ actor: alice, reason: 'our secret leaked' }] });
    let refusedAfter: number | undefined;
    while (Date.now() - since < WITHIN_MS) {
      if ((await tokenWithSecret(url('production'), serviceId, secret, 'system/Patient.rs')).status !== 200) {
        refusedAfter = Date.now() - since;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(refusedAfter, 'production still issues tokens 10 s after the revoke').toBeDefined();
    // Policies go first (403), then the sessions (401): never a 200 again, 401 within 5 s.
    expect((await patientRead('production', earlier)).status).not.toBe(200);
    await expect
      .poll(async () => (await patientRead('production', earlier)).status, { timeout: 5_000, interval: 100 })
      .toBe(401);
    const final = await handle.result();
    expect(final).toMatchObject({
      status: 'rejected',
      rejection: { kind: 'revoked-by-owner', by: 'alice', reason: 'our secret leaked' },
      cleanup: { done: true },
    });
    expect(await system.aidbox.sandbox.readClient(serviceId)).toBeUndefined();
    await recordHistory(handle, 'current-revoke.json');
  });

  it('rotation at once: a token minted before it gets 401 after it, in both Aidboxes', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await activate(handle, serviceId);
    const secret = await system.secretStore.reveal(serviceId, 1);
    const before = {
      sandbox: await accessToken('sandbox', serviceId, secret),
      production: await accessToken('production', serviceId, secret),
    };
    // Negative control: the token works before the rotation.
    expect((await patientRead('production', before.production)).status).toBe(200);
    await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice }] });
    for (const env of ['sandbox', 'production'] as const)
      expect((await patientRead(env, before[env])).status, env).toBe(401);
  });

  it('staged rotation: the old secret works until activateAt, the new one from then; activate-now and drop', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await activate(handle, serviceId);
    const first = await system.secretStore.reveal(serviceId, 1);
    const activateAt = new Date(Date.now() + 4_000).toISOString();
    const staged = await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice, activateAt }] });
    expect(staged.secretVersion).toBe(2);
    const second = await system.secretStore.reveal(serviceId, 2);
    const token = (secret: string) =>
      tokenWithSecret(url('production'), serviceId, secret, 'system/Patient.rs').then((r) => r.status);
    expect(await token(first)).toBe(200);
    expect(await token(second)).toBe(400);
    expect((await handle.query(stateQuery)).credentials.stagedSecret).toMatchObject({
      version: 2,
      activateAt,
    });
    // Only one staged secret at a time.
    expect(
      (
        await updateFailure(
          handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice, activateAt }] }),
        )
      ).type,
    ).toBe('InvalidTransition');
    const live = await waitForProjection(
      system.db,
      serviceId,
      (s) => s.credentials.secret?.version === 2,
      20_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(activateAt));
    expect(live.credentials.stagedSecret).toBeNull();
    expect(await token(second)).toBe(200);
    expect(await token(first)).toBe(400);

    // activate-staged-secret switches at once; drop keeps the live one.
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice, activateAt: later }] });
    const third = await system.secretStore.reveal(serviceId, 3);
    await handle.executeUpdate(activateStagedSecretUpdate, { args: [{ actor: alice }] });
    expect(await token(third)).toBe(200);
    expect(await token(second)).toBe(400);
    await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice, activateAt: later }] });
    await handle.executeUpdate(dropStagedSecretUpdate, { args: [{ actor: alice }] });
    expect((await handle.query(stateQuery)).credentials.stagedSecret).toBeNull();
    expect(await token(third)).toBe(200);
    // A dropped version's number is never reused.
    const next = await handle.executeUpdate(rotateSecretUpdate, {
      args: [{ actor: alice, activateAt: later }],
    });
    expect(next.secretVersion).toBe(5);
    expect((await historyOf(system.db, serviceId)).map((h) => h.action)).toEqual(
      expect.arrayContaining(['stage-secret', 'activate-staged-secret', 'drop-staged-secret']),
    );
    await recordHistory(handle, 'current-staged-rotation.json');
  });
});
