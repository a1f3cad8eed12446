import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHistory } from '../../test-support/histories.js';
import {
  fhirGet,
  registration,
  startService,
  tokenWithSecret,
  updateFailure,
  waitForProjection,
} from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { startKeyServer } from '../../test-support/key-server.js';
import { exportJWK, generateKeyPair } from 'jose';
import {
  approveUpdate,
  dropPendingChangeUpdate,
  editUpdate,
  rejectUpdate,
  stateQuery,
  submitUpdate,
  withdrawUpdate,
} from './messages.js';
import type { ScopeRule } from './service-state.js';
import type { backendService } from './workflow.js';

/** A live service changed through review: production keeps serving, then switches with no gap. */
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };
const PATIENT: ScopeRule = { resource: 'Patient', operations: ['read', 'search'] };
const OBSERVATION: ScopeRule = { resource: 'Observation', operations: ['read', 'search'] };

describe('changing a live service', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem();
  });
  afterAll(() => system?.stop());

  const url = (env: 'sandbox' | 'production') => system.standins[env].url;
  const read = (env: 'sandbox' | 'production', type: string, token: string) =>
    fhirGet(
      url(env),
      env === 'production' ? `/Organization/org-payer-a/fhir/${type}` : `/fhir/${type}`,
      token,
    );
  const token = async (env: 'sandbox' | 'production', id: string, secret: string, scope: string) => {
    const answer = await tokenWithSecret(url(env), id, secret, scope);
    return answer.status === 200 ? ((await answer.json()) as { access_token: string }).access_token : null;
  };

  async function live(rules: ScopeRule[]) {
    const { serviceId, handle } = await startService(
      system,
      registration({ type: 'client_secret' }, { rules }),
    );
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await approveWhatIsUnderReview(
      handle,
      (await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] })).revision,
    );
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    return { serviceId, handle, secret: await system.secretStore.reveal(serviceId, 1) };
  }

  async function approveWhatIsUnderReview(handle: WorkflowHandle<typeof backendService>, _revision?: number) {
    const state = await handle.query(stateQuery);
    const submission = state.pendingChange?.submission ?? state.submission!;
    await handle.executeUpdate(approveUpdate, {
      args: [
        { actor: bob, revision: submission.revision, policyHash: submission.productionPolicies.policyHash },
      ],
    });
  }

  const change = (
    handle: WorkflowHandle<typeof backendService>,
    expectedRevision: number,
    rules: ScopeRule[],
  ) =>
    handle.executeUpdate(editUpdate, {
      args: [
        { actor: alice, expectedRevision, registration: registration({ type: 'client_secret' }, { rules }) },
      ],
    });

  it('no gap: a scope added through review, reads never fail meanwhile; removed again, it stops for fresh and earlier tokens', async () => {
    const { serviceId, handle, secret } = await live([PATIENT]);
    const opened = await change(handle, 1, [PATIENT, OBSERVATION]);
    expect(opened).toMatchObject({ status: 'active', revision: 1 });
    const pending = await waitForProjection(system.db, serviceId, (s) => s.sandbox.revision === 2);
    expect(pending.pendingChange).toMatchObject({ revision: 2, state: 'draft' });
    expect(pending.registration.scopes.strings).toEqual(['system/Patient.rs']);
    // The sandbox serves the change at once; production still the live revision.
    const sandboxToken = await token('sandbox', serviceId, secret, 'system/Observation.rs');
    expect((await read('sandbox', 'Observation', sandboxToken!)).status).toBe(200);
    expect(await token('production', serviceId, secret, 'system/Observation.rs')).toBeNull();

    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    expect((await handle.query(stateQuery)).pendingChange?.state).toBe('under_review');

    // While production is changed: every token request and Patient read succeeds.
    let running = true;
    const failures: string[] = [];
    let reads = 0;
    const loop = (async () => {
      while (running) {
        const t = await token('production', serviceId, secret, 'system/Patient.rs');
        if (!t) failures.push('token refused');
        else {
          const status = (await read('production', 'Patient', t)).status;
          if (status !== 200) failures.push(`Patient read ${status}`);
        }
        reads += 1;
      }
    })();
    await approveWhatIsUnderReview(handle);
    const approved = await waitForProjection(
      system.db,
      serviceId,
      (s) => s.revision === 2 && !s.pendingChange && !s.approval,
    );
    running = false;
    await loop;
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(approved.status).toBe('active');
    const both = await token('production', serviceId, secret, 'system/Patient.rs system/Observation.rs');
    expect((await read('production', 'Observation', both!)).status).toBe(200);

    // The second change removes Observation: afterwards neither a fresh token nor the earlier one reads it.
    await change(handle, 2, [PATIENT]);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    await approveWhatIsUnderReview(handle);
    await waitForProjection(system.db, serviceId, (s) => s.revision === 3 && !s.pendingChange && !s.approval);
    const fresh = await token('production', serviceId, secret, 'system/Patient.rs');
    expect((await read('production', 'Observation', fresh!)).status).toBe(403);
    expect((await read('production', 'Observation', both!)).status).toBe(403);
    expect((await read('production', 'Patient', fresh!)).status).toBe(200);
    await recordHistory(handle, 'current-live-change.json');
  });

  it('reject keeps the live revision serving and the reason on the change; withdraw and a stale approval too', async () => {
    const { serviceId, handle, secret } = await live([PATIENT]);
    await change(handle, 1, [PATIENT, OBSERVATION]);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const state = await handle.query(stateQuery);
    // An approval naming the live revision is stale: what is under review is revision 2.
    const stale = await updateFailure(
      handle.executeUpdate(approveUpdate, {
        args: [{ actor: bob, revision: 1, policyHash: state.submission!.productionPolicies.policyHash }],
      }),
    );
    expect(stale.type).toBe('StaleReview');
    await handle.executeUpdate(withdrawUpdate, { args: [{ actor: alice }] });
    expect((await handle.query(stateQuery)).pendingChange?.state).toBe('draft');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    await handle.executeUpdate(rejectUpdate, { args: [{ actor: bob, reason: 'Observation is not needed' }] });
    const rejected = await waitForProjection(
      system.db,
      serviceId,
      (s) => s.pendingChange?.state === 'rejected',
    );
    expect(rejected).toMatchObject({ status: 'active', revision: 1 });
    expect(rejected.pendingChange!.rejection).toMatchObject({
      reason: 'Observation is not needed',
      by: 'bob',
    });
    const t = await token('production', serviceId, secret, 'system/Patient.rs');
    expect((await read('production', 'Patient', t!)).status).toBe(200);
    await recordHistory(handle, 'current-live-change-rejected.json');
  });

  it('dropping a change leaves the service exactly as before, in the read model and both Aidboxes', async () => {
    const { serviceId, handle, secret } = await live([PATIENT]);
    const before = await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    const policiesBefore = {
      sandbox: (await system.aidbox.sandbox.listAccessPoliciesForClient(serviceId)).map((p) => p.id).sort(),
      production: (await system.aidbox.production.listAccessPoliciesForClient(serviceId))
        .map((p) => p.id)
        .sort(),
    };
    const clientsBefore = {
      sandbox: await system.aidbox.sandbox.readClient(serviceId),
      production: await system.aidbox.production.readClient(serviceId),
    };
    await change(handle, 1, [PATIENT, OBSERVATION]);
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.revision === 2);
    await handle.executeUpdate(dropPendingChangeUpdate, { args: [{ actor: alice }] });
    const after = await waitForProjection(
      system.db,
      serviceId,
      (s) => !s.pendingChange && s.sandbox.revision === 1,
    );
    for (const field of [
      'status',
      'revision',
      'registration',
      'submission',
      'credentials',
      'sandbox',
    ] as const)
      expect(after[field], field).toEqual(before[field]);
    expect(
      (await system.aidbox.sandbox.listAccessPoliciesForClient(serviceId)).map((p) => p.id).sort(),
    ).toEqual(policiesBefore.sandbox);
    expect(
      (await system.aidbox.production.listAccessPoliciesForClient(serviceId)).map((p) => p.id).sort(),
    ).toEqual(policiesBefore.production);
    const strip = (c: Record<string, unknown> | undefined) => {
      const { meta: _meta, ...rest } = (c ?? {}) as Record<string, unknown>;
      return rest;
    };
    expect(strip(await system.aidbox.sandbox.readClient(serviceId))).toEqual(strip(clientsBefore.sandbox));
    expect(strip(await system.aidbox.production.readClient(serviceId))).toEqual(
      strip(clientsBefore.production),
    );
    const sandboxToken = await token('sandbox', serviceId, secret, 'system/Patient.rs');
    expect((await read('sandbox', 'Observation', sandboxToken!)).status).toBe(403);
    await recordHistory(handle, 'current-live-change-dropped.json');
  });

  it('an approved change of a JWKS service keeps the keys its fresh check at approval accepted, not those seen at submit', async () => {
    const keys = await startKeyServer();
    try {
      const jwks = (rules: ScopeRule[]) =>
        registration({ type: 'jwks_uri', jwksUri: keys.jwksUri }, { rules });
      const { serviceId, handle } = await startService(system, jwks([PATIENT]));
      await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
      await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
      await approveWhatIsUnderReview(handle);
      await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
      await handle.executeUpdate(editUpdate, {
        args: [{ actor: alice, expectedRevision: 1, registration: jwks([PATIENT, OBSERVATION]) }],
      });
      await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
      const atSubmit = (await handle.query(stateQuery)).pendingChange!.credentials.acceptedThumbprints;
      expect(Object.keys(atSubmit)).toEqual([keys.publicJwk.kid]);
      // The owner rotates its key between submit and approval: the set now holds only a new key.
      const rotated = await generateKeyPair('RS384', { extractable: true });
      const next = { ...(await exportJWK(rotated.publicKey)), kid: 'rotated-key', alg: 'RS384', use: 'sig' };
      keys.publish({ keys: [next] });
      await approveWhatIsUnderReview(handle);
      const live = await waitForProjection(
        system.db,
        serviceId,
        (s) => s.revision === 2 && !s.pendingChange && s.approval === null,
      );
      expect(Object.keys(live.credentials.acceptedThumbprints)).toEqual(['rotated-key']);
      expect(live.credentials.jwksReport?.keys.map((k) => k.kid)).toEqual(['rotated-key']);
      await recordHistory(handle, 'folded-live-change-jwks.json');
    } finally {
      await keys.close();
    }
  });
});
