import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registration, startService, waitForProjection } from '../../test-support/services.js';
import { recordHistory } from '../../test-support/histories.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { editUpdate, stateQuery, workflowIdOf } from './messages.js';
import type { backendService } from './workflow.js';

const alice = { sub: 'alice', roles: ['developer'] };

describe('continue-as-new of a long-lived service', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem();
  });
  afterAll(async () => system?.stop());

  it('carries the state, the search attributes and the recent update IDs into the new run', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
      continueAsNewAfterEvents: 60,
    });
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    const firstRunId = (await handle.describe()).runId;
    const latest = system.client.workflow.getHandle<typeof backendService>(workflowIdOf(serviceId));

    // Edits with explicit update IDs (the API derives them from Idempotency-Key) until the run rolls over.
    const results = new Map<string, unknown>();
    let revision = 1;
    while ((await latest.describe()).runId === firstRunId) {
      const updateId = `edit-${revision}`;
      const reg = registration({ type: 'client_secret' }, { name: `Acme, revision ${revision + 1}` });
      results.set(
        updateId,
        await latest.executeUpdate(editUpdate, {
          updateId,
          args: [{ actor: alice, expectedRevision: revision, registration: reg }],
        }),
      );
      revision += 1;
      expect(revision).toBeLessThan(20);
    }
    await waitForProjection(system.db, serviceId, (s) => s.revision === revision);

    // The new run answers with the same state the old run projected.
    const projected = await waitForProjection(system.db, serviceId, (s) => s.sandbox.revision === revision);
    const carried = await latest.query(stateQuery);
    expect(carried).toEqual(projected);

    // Search attributes are set on the new run.
    const description = await latest.describe();
    expect(description.runId).not.toBe(firstRunId);
    expect(
      description.typedSearchAttributes.get({ name: 'BackendServiceStatus', type: 'KEYWORD' } as never),
    ).toBe('draft');
    expect(
      description.typedSearchAttributes.get({ name: 'BackendServiceOwner', type: 'KEYWORD' } as never),
    ).toBe('alice');

    // A retry of an update applied in the first run is answered with its first result, not applied again.
    const retried = await latest.executeUpdate(editUpdate, {
      updateId: 'edit-1',
      args: [
        {
          actor: alice,
          expectedRevision: 1,
          registration: registration({ type: 'client_secret' }, { name: 'replayed' }),
        },
      ],
    });
    expect(retried).toEqual(results.get('edit-1'));
    expect((await latest.query(stateQuery)).revision).toBe(revision);
    expect((await latest.query(stateQuery)).registration.name).toBe(`Acme, revision ${revision}`);

    // The read model keeps growing from where the first run left it.
    const before = Number(
      (
        await system.db
          .selectFrom('backend_services')
          .select('projection_version')
          .where('id', '=', serviceId)
          .executeTakeFirstOrThrow()
      ).projection_version,
    );
    await latest.executeUpdate(editUpdate, {
      args: [
        { actor: alice, expectedRevision: revision, registration: registration({ type: 'client_secret' }) },
      ],
    });
    const after = await waitForProjection(system.db, serviceId, (s) => s.revision === revision + 1);
    expect(after.projectionVersion).toBeGreaterThan(before);

    await recordHistory(
      system.client.workflow.getHandle(workflowIdOf(serviceId), firstRunId),
      'continue-as-new.json',
    );
  });
});
