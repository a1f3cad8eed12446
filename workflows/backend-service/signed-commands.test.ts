import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AidboxClient } from '../../aidbox/client.js';
import { createApp } from '../../api/app.js';
import {
  createIdentities,
  jsonRequest,
  testConfig,
  validRegistration,
} from '../../test-support/api-harness.js';
import { createLogger } from '../../platform/logger.js';
import { generateCommandKeyPair } from '../../platform/command-tokens.js';
import { testCommandSigner, testCommandVerifyKeys } from '../../test-support/command-keys.js';
import {
  FAST_RETRY,
  historyOf,
  newServiceId,
  registration,
  startService,
  updateFailure,
  waitForProjection,
} from '../../test-support/services.js';
import { recordHistory } from '../../test-support/histories.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { startTestWorker, testClient, type RunningWorker } from '../../test-support/temporal.js';
import type { CommandVerification } from '../../worker/command-verifier.js';
import {
  approveUpdate,
  editUpdate,
  rotateSecretUpdate,
  stateQuery,
  submitUpdate,
  workflowIdOf,
} from './messages.js';
import type { BackendServiceInput } from './inputs.js';
import { FailureType } from './failure-types.js';

/**
 * Only the API can command a service (issue 13, docs/decisions/signed-commands.md): on the real
 * dev server, PostgreSQL and stand-ins, commands that did not come from the API (or came from it
 * once and are sent again) are refused and leave a `refused-command` entry in the audit history.
 */
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

describe('signed commands', () => {
  let system: TestSystem;
  /** An outsider's client: sends what it is given, signs nothing. */
  let outsider: Client;
  const extraWorkers: RunningWorker[] = [];
  const cliHome = mkdtempSync(path.join(tmpdir(), 'bs-cli-'));

  beforeAll(async () => {
    system = await startTestSystem();
    outsider = await testClient(undefined, { signed: false });
  });
  afterAll(async () => {
    for (const worker of extraWorkers) await worker.stop();
    await outsider?.connection.close();
    await system?.stop();
    rmSync(cliHome, { recursive: true, force: true });
  });

  /** `temporal workflow update execute`, as anyone who can reach the frontend would run it. */
  async function cliUpdate(workflowId: string, name: string, input: unknown) {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        inject('temporalCliPath'),
        [
          'workflow',
          'update',
          'execute',
          '--workflow-id',
          workflowId,
          '--name',
          name,
          '--input',
          JSON.stringify(input),
          '--address',
          inject('temporalAddress'),
        ],
        { env: { ...process.env, HOME: cliHome }, timeout: 30_000 },
      );
      return { ok: true, output: stdout + stderr };
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; message: string };
      return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}${failed.message}` };
    }
  }

  async function waitForHistory(serviceId: string, action: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const history = await historyOf(system.db, serviceId);
      if (history.some((h) => h.action === action)) return history;
      if (Date.now() > deadline) throw new Error(`no ${action} in ${JSON.stringify(history)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A worker on its own task queue, with its own verification and (optionally) Aidbox clients. */
  async function extraWorker(
    commandVerification: CommandVerification,
    aidbox: Partial<Record<'sandbox' | 'production', AidboxClient>> = {},
  ) {
    const worker = await startTestWorker(
      { ...system.deps, aidbox: { ...system.deps.aidbox, ...aidbox } },
      { commandVerification },
    );
    extraWorkers.push(worker);
    return worker;
  }

  async function draftService(options: { taskQueue?: string } = {}) {
    const started = await startService(system, registration({ type: 'client_secret' }), options);
    await waitForProjection(system.db, started.serviceId, (s) => s.sandbox.state === 'ready');
    return started;
  }

  async function underReview(options: { taskQueue?: string } = {}) {
    const started = await draftService(options);
    await started.handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const submission = (await started.handle.query(stateQuery)).submission!;
    return {
      ...started,
      revision: submission.revision,
      policyHash: submission.productionPolicies.policyHash,
    };
  }

  const outsiderHandle = (serviceId: string) => outsider.workflow.getHandle(workflowIdOf(serviceId));

  it('a forged approval through the Temporal CLI is refused: the service stays under review, the audit history names the claimed actor as unverified', async () => {
    const { serviceId, handle, revision, policyHash } = await underReview();

    const forged = await cliUpdate(workflowIdOf(serviceId), 'approve', {
      actor: { sub: 'nobody-real', roles: ['admin'] },
      revision,
      policyHash,
    });
    expect(forged.ok).toBe(false);
    expect(forged.output).toContain('no command token');

    const history = await waitForHistory(serviceId, 'refused-command');
    expect(history.at(-1)).toMatchObject({
      action: 'refused-command',
      actor: 'nobody-real',
      from_status: 'under_review',
      to_status: 'under_review',
    });
    expect(history.at(-1)!.reason).toMatch(/^unverified: approve refused, no command token/);
    expect(history.some((h) => h.action === 'approve')).toBe(false);
    const state = await handle.query(stateQuery);
    expect(state).toMatchObject({ status: 'under_review', approval: null, productionProvisioned: false });
    expect(await system.aidbox.production.readClient(serviceId)).toBeUndefined();

    // The administrator's signed approval still goes through, and is who the audit trail names.
    await handle.executeUpdate(approveUpdate, { args: [{ actor: bob, revision, policyHash }] });
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    const after = await historyOf(system.db, serviceId);
    expect(after.filter((h) => h.action === 'approve').map((h) => h.actor)).toEqual(['bob']);
    await recordHistory(handle, 'signed-commands.json');
  });

  it('refuses a signed command replayed against another service', async () => {
    const a = await draftService();
    const b = await draftService();
    const signedForA = await testCommandSigner().signArgument({
      workflowId: workflowIdOf(a.serviceId),
      name: 'rotateSecret',
      actor: alice,
      argument: { actor: alice },
    });
    const failure = await updateFailure(
      outsiderHandle(b.serviceId).executeUpdate(rotateSecretUpdate, { args: [signedForA] }),
    );
    expect(failure.type).toBe(FailureType.CommandNotAuthorized);
    expect(failure.message).toContain('another workflow');
    const history = await waitForHistory(b.serviceId, 'refused-command');
    expect(history.at(-1)).toMatchObject({ actor: 'alice', action: 'refused-command' });
    expect((await b.handle.query(stateQuery)).credentials.secret?.version).toBe(1);
  });

  it('refuses a signed command sent after its expiry', async () => {
    const { serviceId, handle } = await draftService();
    const tenMinutesAgo = () => new Date(Date.now() - 10 * 60_000);
    const stale = await testCommandSigner({ now: tenMinutesAgo }).signArgument({
      workflowId: workflowIdOf(serviceId),
      name: 'rotateSecret',
      actor: alice,
      argument: { actor: alice },
    });
    const failure = await updateFailure(
      outsiderHandle(serviceId).executeUpdate(rotateSecretUpdate, { args: [stale] }),
    );
    expect(failure.type).toBe(FailureType.CommandNotAuthorized);
    expect(failure.message).toContain('expired');
    expect((await handle.query(stateQuery)).credentials.secret?.version).toBe(1);
  });

  it('refuses a command whose arguments were changed after signing (another revision)', async () => {
    const { serviceId, handle, revision, policyHash } = await underReview();
    const signed = await testCommandSigner().signArgument({
      workflowId: workflowIdOf(serviceId),
      name: 'approve',
      actor: bob,
      argument: { actor: bob, revision: revision + 1, policyHash },
    });
    const failure = await updateFailure(
      outsiderHandle(serviceId).executeUpdate(approveUpdate, { args: [{ ...signed, revision }] }),
    );
    expect(failure.type).toBe(FailureType.CommandNotAuthorized);
    expect(failure.message).toContain('arguments');
    expect(await handle.query(stateQuery)).toMatchObject({ status: 'under_review', approval: null });
  });

  it('refuses a replayed jti; a retry of the same update (same update ID) is answered, not refused', async () => {
    const { serviceId, handle } = await draftService();
    const signed = await testCommandSigner().signArgument({
      workflowId: workflowIdOf(serviceId),
      name: 'rotateSecret',
      actor: alice,
      argument: { actor: alice },
    });
    const first = await outsiderHandle(serviceId).executeUpdate(rotateSecretUpdate, {
      args: [signed],
      updateId: 'rotate-once',
    });
    expect(first.secretVersion).toBe(2);
    const retried = await outsiderHandle(serviceId).executeUpdate(rotateSecretUpdate, {
      args: [signed],
      updateId: 'rotate-once',
    });
    expect(retried.secretVersion).toBe(2);
    const failure = await updateFailure(
      outsiderHandle(serviceId).executeUpdate(rotateSecretUpdate, { args: [signed] }),
    );
    expect(failure.type).toBe(FailureType.CommandNotAuthorized);
    expect(failure.message).toContain('replayed');
    expect((await handle.query(stateQuery)).credentials.secret?.version).toBe(2);
  });

  it('a command queued behind a job slower than its token lifetime still runs (expiry is judged on arrival)', async () => {
    let sandboxDelayMs = 0;
    const slowSandbox = new Proxy(system.aidbox.sandbox, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'upsertClient' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          await new Promise((r) => setTimeout(r, sandboxDelayMs));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const worker = await extraWorker(
      { keys: testCommandVerifyKeys(), clockSkewSeconds: 0 },
      { sandbox: slowSandbox },
    );
    const { serviceId, handle } = await draftService({ taskQueue: worker.taskQueue });
    const state = await handle.query(stateQuery);

    sandboxDelayMs = 3_000;
    const editing = handle.executeUpdate(editUpdate, {
      args: [{ actor: alice, expectedRevision: 1, registration: { ...state.registration, name: 'Renamed' } }],
    });
    await new Promise((r) => setTimeout(r, 300));
    const sentAt = Date.now();
    const rotate = await testCommandSigner({ lifetimeSeconds: 1 }).signArgument({
      workflowId: workflowIdOf(serviceId),
      name: 'rotateSecret',
      actor: alice,
      argument: { actor: alice },
    });
    const rotated = await outsiderHandle(serviceId).executeUpdate(rotateSecretUpdate, { args: [rotate] });
    expect(Date.now() - sentAt).toBeGreaterThan(1_500);
    expect(rotated.secretVersion).toBe(2);
    expect((await editing).revision).toBe(2);
    sandboxDelayMs = 0;
  });

  it('key rotation: the API signs with the new key while the worker trusts old and new; a key outside the set is refused', async () => {
    const rotated = await generateCommandKeyPair('rotated-key');
    const unknown = await generateCommandKeyPair('unknown-key');
    const worker = await extraWorker({
      keys: { keys: [...testCommandVerifyKeys().keys, ...rotated.verifyKeys.keys] },
    });
    const ids = await createIdentities();
    const appSigningWith = (signingKey: object) =>
      createApp({
        config: testConfig({
          TEMPORAL_TASK_QUEUE: worker.taskQueue,
          TEMPORAL_CALL_TIMEOUT_MS: '15000',
          COMMAND_SIGNING_KEY: JSON.stringify(signingKey),
        }),
        db: system.db,
        temporal: system.client,
        log: createLogger('api', 'silent'),
        verifier: ids.verifier,
        secrets: system.secretStore,
        workflowRetry: FAST_RETRY,
      });
    const api = appSigningWith(rotated.signingKey);
    const stranger = appSigningWith(unknown.signingKey);
    const headers = await ids.bearer('alice', ['developer']);

    const created = await api.request(
      '/v1/backend-services',
      jsonRequest('POST', validRegistration(), headers),
    );
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await waitForProjection(system.db, id, (s) => s.sandbox.state === 'ready');

    const refused = await stranger.request(`/v1/backend-services/${id}/rotate-secret`, {
      method: 'POST',
      headers,
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ type: '/problems/command-not-authorized', status: 403 });
    const history = await waitForHistory(id, 'refused-command');
    expect(history.at(-1)!.reason).toContain('unknown key');

    const submitted = await api.request(`/v1/backend-services/${id}/submit`, { method: 'POST', headers });
    expect(submitted.status).toBe(200);
    expect(await submitted.json()).toMatchObject({ status: 'under_review' });
  });

  it('a start that did not come from the API provisions nothing and completes with the refusal', async () => {
    const serviceId = newServiceId();
    const input: BackendServiceInput = {
      serviceId,
      ownerId: 'mallory',
      registration: registration({ type: 'client_secret' }),
      createdAt: new Date().toISOString(),
      retry: FAST_RETRY,
    };
    const handle = await outsider.workflow.start('backendService', {
      workflowId: workflowIdOf(serviceId),
      taskQueue: system.worker.taskQueue,
      args: [input],
    });
    expect(await handle.result()).toEqual({
      refused: FailureType.CommandNotAuthorized,
      serviceId,
      reason: 'no command token',
      claimedActor: 'mallory',
    });
    const row = await system.db
      .selectFrom('backend_services')
      .select('id')
      .where('id', '=', serviceId)
      .executeTakeFirst();
    expect(row).toBeUndefined();
    expect(await system.aidbox.sandbox.readClient(serviceId)).toBeUndefined();
  });

  it('a forged start that claims to continue an earlier run (carried state) is refused as well', async () => {
    const { handle } = await draftService();
    const real = await handle.query(stateQuery);
    const serviceId = newServiceId();
    const forged = await outsider.workflow.start('backendService', {
      workflowId: workflowIdOf(serviceId),
      taskQueue: system.worker.taskQueue,
      args: [
        {
          serviceId,
          ownerId: 'mallory',
          registration: real.registration,
          createdAt: real.createdAt,
          carried: { state: { ...real, serviceId, ownerId: 'mallory', status: 'active' }, recentUpdates: [] },
        } satisfies BackendServiceInput,
      ],
    });
    expect(await forged.result()).toMatchObject({ refused: FailureType.CommandNotAuthorized, serviceId });
    const row = await system.db
      .selectFrom('backend_services')
      .select('id')
      .where('id', '=', serviceId)
      .executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('continue-as-new: the new run is not taken for a forged start, and the jtis it saw are still refused', async () => {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
      continueAsNewAfterEvents: 60,
    });
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    const firstRunId = (await handle.describe()).runId;
    const latest = system.client.workflow.getHandle(workflowIdOf(serviceId));
    const rotate = await testCommandSigner().signArgument({
      workflowId: workflowIdOf(serviceId),
      name: 'rotateSecret',
      actor: alice,
      argument: { actor: alice },
    });
    await outsiderHandle(serviceId).executeUpdate(rotateSecretUpdate, { args: [rotate] });
    let revision = 1;
    while ((await latest.describe()).runId === firstRunId) {
      const reg = registration({ type: 'client_secret' }, { name: `Acme, revision ${revision + 1}` });
      await latest.executeUpdate(editUpdate, {
        args: [{ actor: alice, expectedRevision: revision, registration: reg }],
      });
      revision += 1;
      expect(revision).toBeLessThan(20);
    }
    expect((await latest.describe()).status.name).toBe('RUNNING');
    const failure = await updateFailure(
      outsiderHandle(serviceId).executeUpdate(rotateSecretUpdate, { args: [rotate] }),
    );
    expect(failure.type).toBe(FailureType.CommandNotAuthorized);
    expect(failure.message).toContain('replayed');
    // A fresh signed command is served by the new run.
    const rotated = await latest.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice }] });
    expect(rotated.secretVersion).toBe(3);
  });

  it('negative control: with verification switched off in the worker, the same forged approval succeeds', async () => {
    const worker = await extraWorker({ off: true, reason: 'test negative control' });
    const { serviceId, revision, policyHash } = await underReview({ taskQueue: worker.taskQueue });
    const forged = await cliUpdate(workflowIdOf(serviceId), 'approve', {
      actor: { sub: 'nobody-real', roles: ['admin'] },
      revision,
      policyHash,
    });
    expect(forged.output).not.toContain('CommandNotAuthorized');
    expect(forged.ok).toBe(true);
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    const history = await historyOf(system.db, serviceId);
    expect(history.find((h) => h.action === 'approve')?.actor).toBe('nobody-real');
  });
});
