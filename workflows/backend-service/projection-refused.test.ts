import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  historyOf,
  registration,
  startService,
  tokenWithSecret,
  updateFailure,
  waitForProjection,
} from '../../test-support/services.js';
import { recordHistory } from '../../test-support/histories.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { approveUpdate, deactivateUpdate, stateQuery, submitUpdate } from './messages.js';

/**
 * A value PostgreSQL refuses for good (here a creation time that is no timestamp, which only a
 * workflow started outside the API could carry) must not hold the service: each projection writes a
 * sanitised row with projectionError, fails only its own update, and decisions keep working.
 */
describe('a projection PostgreSQL refuses for good', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem();
  });
  afterAll(() => system?.stop());

  const pendingAttempts = async (handle: { describe(): Promise<{ raw: unknown }> }) => {
    const raw = (await handle.describe()).raw as { pendingActivities?: Array<{ attempt?: number }> };
    return (raw.pendingActivities ?? []).map((a) => a.attempt ?? 1);
  };

  it('is not retried: the row shows the status and projectionError, only the update that caused it fails, and the service is still approved and deactivated', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
      input: { createdAt: 'not-a-date' },
    });
    const draft = await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    expect(draft.status).toBe('draft');
    expect(draft.projectionError).toMatchObject({ sqlstate: '22007' });
    expect(draft.projectionError!.message).toContain('the read model refused this change');
    expect(Date.parse(draft.createdAt)).not.toBeNaN();

    // The submit is applied (the workflow's state moves on) but its update says the read model refused it.
    const failure = await updateFailure(
      handle.executeUpdate(submitUpdate, { args: [{ actor: { sub: 'alice', roles: ['developer'] } }] }),
    );
    expect(failure.type).toBe('ProjectionFailed');
    expect((await handle.query(stateQuery)).status).toBe('under_review');
    const underReview = await waitForProjection(system.db, serviceId, (s) => s.status === 'under_review');
    expect(underReview.projectionError?.projectionVersion).toBe(underReview.projectionVersion);
    expect(await pendingAttempts(handle)).toEqual([]);
    expect((await historyOf(system.db, serviceId)).map((h) => h.action)).toEqual(['create', 'submit']);

    // Decisions keep working: approval provisions production, deactivation cuts it off.
    const { submission } = await handle.query(stateQuery);
    await updateFailure(
      handle.executeUpdate(approveUpdate, {
        args: [
          {
            actor: { sub: 'bob', roles: ['admin'] },
            revision: submission!.revision,
            policyHash: submission!.productionPolicies.policyHash,
          },
        ],
      }),
    );
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    const secret = await system.secretStore.reveal(serviceId, 1);
    const production = () =>
      tokenWithSecret(system.standins.production.url, serviceId, secret, 'system/Patient.rs');
    expect((await production()).status).toBe(200);
    await updateFailure(
      handle.executeUpdate(deactivateUpdate, {
        args: [{ actor: { sub: 'bob', roles: ['admin'] }, reason: 'done' }],
      }),
    );
    expect((await production()).status).toBe(400);
    expect(await handle.result()).toMatchObject({ status: 'rejected', cleanup: { done: true } });
    await recordHistory(handle, 'current-projection-refused.json');
  });

  it('negative control: a clean service projects without projectionError', async () => {
    const { serviceId } = await startService(system, registration({ type: 'client_secret' }));
    const draft = await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    expect(draft.projectionError).toBeUndefined();
  });
});
