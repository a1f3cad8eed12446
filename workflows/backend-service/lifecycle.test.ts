import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyServer, type TestKeyServer } from '../../test-support/key-server.js';
import {
  fhirGet,
  historyOf,
  registration,
  startService,
  tokenWithAssertion,
  tokenWithSecret,
  updateFailure,
  waitForProjection,
} from '../../test-support/services.js';
import { recordHistory } from '../../test-support/histories.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import type { ServiceState } from './service-state.js';
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

const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

async function updateAcceptedEvents(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

describe('Backend Service workflow, through its whole life on real Temporal, PostgreSQL and Aidbox stand-ins', () => {
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

  const url = (env: 'sandbox' | 'production') => system.standins[env].url;

  it('client secret: create, sandbox use, edit, submit, approve, production use inside its organization, rotate, deactivate', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    const draft = await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    expect(draft).toMatchObject({ status: 'draft', revision: 1, credentials: { state: 'valid' } });
    expect(draft.credentials.secret).toMatchObject({ version: 1 });
    const secret = await system.secretStore.reveal(serviceId, 1);
    expect(draft.credentials.secret!.fingerprint).not.toContain(secret.slice(0, 8));

    // The sandbox client works at once, and only for what its scopes grant.
    const sandboxToken = await tokenWithSecret(url('sandbox'), serviceId, secret, 'system/Patient.rs');
    expect(sandboxToken.status).toBe(200);
    const { access_token: sandboxAccess } = (await sandboxToken.json()) as { access_token: string };
    expect((await fhirGet(url('sandbox'), '/fhir/Patient', sandboxAccess)).status).toBe(200);
    expect((await fhirGet(url('sandbox'), '/fhir/Observation', sandboxAccess)).status).toBe(403);

    // Edit: more scopes; the sandbox is re-provisioned for revision 2.
    const edited = registration(
      { type: 'client_secret' },
      {
        rules: [
          { resource: 'Patient', operations: ['read', 'search'] },
          { resource: 'Observation', operations: ['read', 'search'] },
        ],
      },
    );
    const afterEdit = await handle.executeUpdate(editUpdate, {
      args: [{ actor: alice, expectedRevision: 1, registration: edited }],
    });
    expect(afterEdit).toMatchObject({ status: 'draft', revision: 2 });
    await waitForProjection(
      system.db,
      serviceId,
      (s) => s.sandbox.revision === 2 && s.sandbox.state === 'ready',
    );
    const retoken = (await (
      await tokenWithSecret(url('sandbox'), serviceId, secret, 'system/Observation.rs')
    ).json()) as { access_token: string };
    expect((await fhirGet(url('sandbox'), '/fhir/Observation', retoken.access_token)).status).toBe(200);

    // Submit: the production policy set is derived and snapshotted.
    const submitted = await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    expect(submitted.status).toBe('under_review');
    const review = await handle.query(stateQuery);
    expect(review.submission?.revision).toBe(2);
    const policyHash = review.submission!.productionPolicies.policyHash;
    expect(policyHash).toMatch(/^[0-9a-f]{64}$/);

    // Approve: accepted at once while production is provisioned, then active.
    const approved = await handle.executeUpdate(approveUpdate, {
      args: [{ actor: bob, revision: 2, policyHash }],
    });
    expect(approved.status).toBe('under_review');
    const active = await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    expect(active.approval).toBeNull();
    expect(active.productionProvisioned).toBe(true);

    // Operators read what the workflow is doing in the Web UI: current details and activity summaries.
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain(`${serviceId}**: active (revision 2)`);
    const summaries = ((await handle.fetchHistory()).events ?? [])
      .map((e) => e.userMetadata?.summary?.data)
      .filter((data): data is Uint8Array => data instanceof Uint8Array)
      .map((data) => JSON.parse(Buffer.from(data).toString()) as string);
    expect(summaries).toEqual(
      expect.arrayContaining([
        'Production: upsert Client (inactive)',
        'Production: apply access policies',
        'Production: activate Client',
      ]),
    );

    // Production: same client ID and secret, inside its organization only (OrgBAC).
    const productionToken = await tokenWithSecret(url('production'), serviceId, secret, 'system/Patient.rs');
    expect(productionToken.status).toBe(200);
    const { access_token: productionAccess } = (await productionToken.json()) as { access_token: string };
    expect(
      (await fhirGet(url('production'), '/Organization/org-payer-a/fhir/Patient', productionAccess)).status,
    ).toBe(200);
    expect(
      (await fhirGet(url('production'), '/Organization/org-payer-b/fhir/Patient', productionAccess)).status,
    ).toBe(403);
    expect((await fhirGet(url('production'), '/fhir/Patient', productionAccess)).status).toBe(403);
    expect(
      (await fhirGet(url('production'), '/Organization/org-payer-a/fhir/Encounter', productionAccess)).status,
    ).toBe(403);

    // Rotate: the old secret stops working at once in both Aidboxes; the result carries no secret.
    const rotated = await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice }] });
    expect(Object.keys(rotated).sort()).toEqual([
      'fingerprint',
      'projectionVersion',
      'revision',
      'secretVersion',
      'status',
    ]);
    expect(rotated.secretVersion).toBe(2);
    const newSecret = await system.secretStore.reveal(serviceId, 2);
    for (const env of ['sandbox', 'production'] as const) {
      expect((await tokenWithSecret(url(env), serviceId, secret, 'system/Patient.rs')).status).toBe(400);
      expect((await tokenWithSecret(url(env), serviceId, newSecret, 'system/Patient.rs')).status).toBe(200);
    }

    // Deactivate: production disabled and its sessions revoked, sandbox client removed, workflow done.
    const beforeDeactivation = (await (
      await tokenWithSecret(url('production'), serviceId, newSecret, 'system/Patient.rs')
    ).json()) as {
      access_token: string;
    };
    await handle.executeUpdate(deactivateUpdate, { args: [{ actor: bob, reason: 'contract ended' }] });
    const final = (await handle.result()) as ServiceState;
    expect(final.status).toBe('rejected');
    expect(final.rejection).toMatchObject({ kind: 'deactivated', reason: 'contract ended', by: 'bob' });
    expect(final.cleanup).toEqual({ done: true, lastError: null });
    expect((await tokenWithSecret(url('production'), serviceId, newSecret, 'system/Patient.rs')).status).toBe(
      400,
    );
    expect(
      (
        await fhirGet(
          url('production'),
          '/Organization/org-payer-a/fhir/Patient',
          beforeDeactivation.access_token,
        )
      ).status,
    ).toBe(401);
    expect(await system.aidbox.sandbox.readClient(serviceId)).toBeUndefined();
    expect(await system.aidbox.production.listAccessPoliciesForClient(serviceId)).toEqual([]);

    expect(
      (await historyOf(system.db, serviceId)).map((h) => [h.action, h.from_status, h.to_status]),
    ).toEqual([
      ['create', null, 'draft'],
      ['edit', 'draft', 'draft'],
      ['submit', 'draft', 'under_review'],
      ['approve', 'under_review', 'under_review'],
      ['approval-completed', 'under_review', 'active'],
      ['rotate-secret', 'active', 'active'],
      ['deactivate', 'active', 'rejected'],
    ]);
    await recordHistory(handle, 'secret-lifecycle.json');
  });

  it('JWKS URI: private_key_jwt in the sandbox, a failing re-check refuses submit with the report only, then production', async () => {
    const { serviceId, handle } = await startService(
      system,
      registration({ type: 'jwks_uri', jwksUri: keys.jwksUri }),
    );
    const draft = await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    expect(draft.credentials.state).toBe('valid');
    expect(draft.credentials.jwksReport?.valid).toBe(true);

    const sandboxToken = await tokenWithAssertion(
      url('sandbox'),
      await keys.assertion(serviceId, `${url('sandbox')}/auth/token`),
      'system/Patient.rs',
    );
    expect(sandboxToken.status).toBe(200);

    // The key server now publishes a private key: submit is accepted, fails CredentialsInvalid,
    // and only the report and its check time change.
    const historyBefore = await historyOf(system.db, serviceId);
    keys.publish({ keys: [{ kty: 'oct', kid: 'shared', k: 'c2VjcmV0' }] });
    const failure = await updateFailure(handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] }));
    expect(failure.type).toBe('CredentialsInvalid');
    const afterFailure = await handle.query(stateQuery);
    expect(afterFailure).toMatchObject({ status: 'draft', revision: 1, credentials: { state: 'invalid' } });
    expect(afterFailure.credentials.jwksReport?.valid).toBe(false);
    expect(await historyOf(system.db, serviceId)).toEqual(historyBefore);
    // A failed re-check never removes the sandbox client.
    expect(await system.aidbox.sandbox.readClient(serviceId)).toBeDefined();

    keys.restore();
    const submitted = await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    expect(submitted.status).toBe('under_review');
    const { submission } = await handle.query(stateQuery);
    await handle.executeUpdate(approveUpdate, {
      args: [
        { actor: bob, revision: submission!.revision, policyHash: submission!.productionPolicies.policyHash },
      ],
    });
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');

    const productionToken = await tokenWithAssertion(
      url('production'),
      await keys.assertion(serviceId, `${url('production')}/auth/token`),
      'system/Patient.rs',
    );
    expect(productionToken.status).toBe(200);
    const { access_token } = (await productionToken.json()) as { access_token: string };
    expect(
      (await fhirGet(url('production'), '/Organization/org-payer-a/fhir/Patient', access_token)).status,
    ).toBe(200);
    expect(
      (await fhirGet(url('production'), '/Organization/org-payer-b/fhir/Patient', access_token)).status,
    ).toBe(403);

    await handle.executeUpdate(deactivateUpdate, { args: [{ actor: bob, reason: 'key compromised' }] });
    await handle.result();
    const refused = await tokenWithAssertion(
      url('production'),
      await keys.assertion(serviceId, `${url('production')}/auth/token`),
      'system/Patient.rs',
    );
    expect(refused.status).toBe(400);
    await recordHistory(handle, 'jwks-lifecycle.json');
  });

  it('JWKS invalid at registration: no sandbox client until a re-check finds it valid', async () => {
    keys.publish({ keys: [{ kty: 'RSA', kid: 'weak', n: 'AQAB', e: 'AQAB' }] });
    try {
      const { serviceId, handle } = await startService(
        system,
        registration({ type: 'jwks_uri', jwksUri: keys.jwksUri }),
      );
      const invalid = await waitForProjection(system.db, serviceId, (s) => s.credentials.state === 'invalid');
      expect(invalid.sandbox).toEqual({ revision: null, state: 'none', lastError: null });
      expect(await system.aidbox.sandbox.readClient(serviceId)).toBeUndefined();
      expect(
        (await updateFailure(handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] }))).type,
      ).toBe('CredentialsInvalid');

      keys.restore();
      const rechecked = await handle.executeUpdate(recheckCredentialsUpdate, { args: [{ actor: alice }] });
      expect(rechecked).toMatchObject({ status: 'draft', revision: 1 });
      const ready = await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
      expect(ready.credentials.state).toBe('valid');
      expect(await system.aidbox.sandbox.readClient(serviceId)).toMatchObject({ jwks_uri: keys.jwksUri });
      expect((await historyOf(system.db, serviceId)).map((h) => h.action)).toEqual(['create']);
    } finally {
      keys.restore();
    }
  });

  it('reject with a reason, edit and resubmit; the previous review is kept for comparison', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const rejected = await handle.executeUpdate(rejectUpdate, {
      args: [{ actor: bob, reason: 'scopes too broad' }],
    });
    expect(rejected.status).toBe('rejected');
    const declined = await waitForProjection(system.db, serviceId, (s) => s.status === 'rejected');
    expect(declined.rejection).toMatchObject({ kind: 'declined', reason: 'scopes too broad', by: 'bob' });

    const narrower = registration(
      { type: 'client_secret' },
      { rules: [{ resource: 'Patient', operations: ['read'] }], name: 'Acme (narrower)' },
    );
    await handle.executeUpdate(editUpdate, {
      args: [{ actor: alice, expectedRevision: 1, registration: narrower }],
    });
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const resubmitted = await handle.query(stateQuery);
    expect(resubmitted.status).toBe('under_review');
    expect(resubmitted.rejection).toBeNull();
    expect(resubmitted.previousSubmission?.revision).toBe(1);
    expect(resubmitted.submission?.revision).toBe(2);
    expect(resubmitted.submission?.productionPolicies.policyHash).not.toBe(
      resubmitted.previousSubmission?.productionPolicies.policyHash,
    );

    await handle.executeUpdate(approveUpdate, {
      args: [{ actor: bob, revision: 2, policyHash: resubmitted.submission!.productionPolicies.policyHash }],
    });
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    expect((await historyOf(system.db, serviceId)).map((h) => h.action)).toEqual([
      'create',
      'submit',
      'reject',
      'edit',
      'submit',
      'approve',
      'approval-completed',
    ]);
    expect((await historyOf(system.db, serviceId))[2]).toMatchObject({
      reason: 'scopes too broad',
      actor: 'bob',
    });
    await recordHistory(handle, 'reject-and-resubmit.json');
  });

  it('refusals on state alone change nothing and leave no trace in history', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    const accepted = await updateAcceptedEvents(handle);
    const before = await handle.query(stateQuery);

    const refusals = await Promise.all([
      updateFailure(
        handle.executeUpdate(approveUpdate, { args: [{ actor: bob, revision: 1, policyHash: 'x' }] }),
      ),
      updateFailure(handle.executeUpdate(rejectUpdate, { args: [{ actor: bob, reason: 'no' }] })),
      updateFailure(handle.executeUpdate(deactivateUpdate, { args: [{ actor: bob, reason: 'no' }] })),
      updateFailure(
        handle.executeUpdate(submitUpdate, { args: [{ actor: { sub: 'mallory', roles: ['developer'] } }] }),
      ),
      updateFailure(
        handle.executeUpdate(editUpdate, {
          args: [{ actor: alice, expectedRevision: 7, registration: before.registration }],
        }),
      ),
      updateFailure(
        handle.executeUpdate(editUpdate, {
          args: [
            {
              actor: alice,
              expectedRevision: 1,
              registration: {
                ...before.registration,
                authMethod: { type: 'jwks_uri', jwksUri: keys.jwksUri },
              },
            },
          ],
        }),
      ),
    ]);
    expect(refusals.map((r) => r.type)).toEqual([
      'InvalidTransition',
      'InvalidTransition',
      'InvalidTransition',
      'Forbidden',
      'RevisionMismatch',
      'InvalidInput',
    ]);
    expect(refusals[0]!.details?.[0]).toMatchObject({ currentStatus: 'draft' });

    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const review = await handle.query(stateQuery);
    const hash = review.submission!.productionPolicies.policyHash;
    const moreRefusals = await Promise.all([
      updateFailure(handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] })),
      updateFailure(
        handle.executeUpdate(approveUpdate, {
          args: [{ actor: { sub: 'alice', roles: ['admin'] }, revision: 1, policyHash: hash }],
        }),
      ),
      updateFailure(
        handle.executeUpdate(approveUpdate, {
          args: [{ actor: bob, revision: 1, policyHash: 'f'.repeat(64) }],
        }),
      ),
      updateFailure(
        handle.executeUpdate(approveUpdate, { args: [{ actor: alice, revision: 1, policyHash: hash }] }),
      ),
    ]);
    expect(moreRefusals.map((r) => r.type)).toEqual([
      'InvalidTransition',
      'SelfApproval',
      'StaleReview',
      'Forbidden',
    ]);

    // Only the one successful submit was accepted into history.
    expect(await updateAcceptedEvents(handle)).toBe(accepted + 1);
    expect((await historyOf(system.db, serviceId)).map((h) => h.action)).toEqual(['create', 'submit']);
  });

  it('approval while production answers 503 shows provisioning with the last error, then completes when it recovers', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);

    system.standins.production.setFaults({ errorRate: 1 });
    try {
      const approved = await handle.executeUpdate(approveUpdate, {
        args: [{ actor: bob, revision: 1, policyHash: submission!.productionPolicies.policyHash }],
      });
      expect(approved.status).toBe('under_review');
      const waiting = await waitForProjection(system.db, serviceId, (s) => (s.approval?.attempts ?? 0) >= 2);
      expect(waiting.approval).toMatchObject({ state: 'provisioning', by: 'bob' });
      expect(waiting.approval?.lastError).toMatchObject({
        environment: 'production',
        status: 503,
        kind: 'AidboxUnavailable',
      });
      expect(JSON.stringify(waiting.approval?.lastError)).not.toMatch(/OperationOutcome|issue/);

      // Meanwhile the refusals of docs/architecture.md ("Approval in progress") hold.
      expect(
        (await updateFailure(handle.executeUpdate(rejectUpdate, { args: [{ actor: bob, reason: 'x' }] })))
          .type,
      ).toBe('InvalidTransition');
      expect(
        (await updateFailure(handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice }] }))).type,
      ).toBe('InvalidTransition');
    } finally {
      system.standins.production.setFaults({ errorRate: 0 });
    }
    const active = await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    expect(active.approval).toBeNull();
    expect(await system.aidbox.production.readClient(serviceId)).toMatchObject({ active: true });
    await recordHistory(handle, 'provisioning-retry.json');
  });

  it('a permanent refusal by production ends the approval as failed; an admin approves again once it is fixed', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }));
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);
    const approve = { actor: bob, revision: 1, policyHash: submission!.productionPolicies.policyHash };

    system.standins.production.failNext({
      kind: 'error-before',
      status: 422,
      method: 'PUT',
      path: /\/Client\//,
      times: 1,
    });
    await handle.executeUpdate(approveUpdate, { args: [approve] });
    const failed = await waitForProjection(system.db, serviceId, (s) => s.approval?.state === 'failed');
    expect(failed.status).toBe('under_review');
    expect(failed.approval?.lastError).toMatchObject({
      environment: 'production',
      status: 422,
      kind: 'AidboxRefused',
    });
    expect((await historyOf(system.db, serviceId)).at(-1)).toMatchObject({
      action: 'approval-failed',
      reason: 'AidboxRefused',
    });

    await handle.executeUpdate(approveUpdate, { args: [approve] });
    const active = await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    expect(active.approval).toBeNull();
  });

  it('the stored secret outlives approval while the sandbox still needs it, and goes once every Aidbox has it', async () => {
    system.standins.sandbox.setFaults({ errorRate: 1 });
    let serviceId: string;
    try {
      const started = await startService(system, registration({ type: 'client_secret' }));
      serviceId = started.serviceId;
      const { handle } = started;
      await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'failed');
      const secret = await system.secretStore.reveal(serviceId, 1);
      await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
      const { submission } = await handle.query(stateQuery);
      await handle.executeUpdate(approveUpdate, {
        args: [{ actor: bob, revision: 1, policyHash: submission!.productionPolicies.policyHash }],
      });
      await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
      // Shown and in production, but the sandbox client is yet to be created with it.
      await expect(system.secretStore.readForProvisioning(serviceId, 1)).resolves.toBe(secret);

      system.standins.sandbox.setFaults({ errorRate: 0 });
      await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
      expect((await tokenWithSecret(url('sandbox'), serviceId, secret, 'system/Patient.rs')).status).toBe(
        200,
      );
      await expect(system.secretStore.readForProvisioning(serviceId, 1)).rejects.toThrow(/deleted/);
    } finally {
      system.standins.sandbox.setFaults({ errorRate: 0 });
    }
  });
});
