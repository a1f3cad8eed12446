import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import {
  createIdentities,
  jsonRequest,
  testConfig,
  validRegistration,
} from '../../test-support/api-harness.js';
import { createLogger } from '../../platform/logger.js';
import { recordHistory } from '../../test-support/histories.js';
import {
  FAST_RETRY,
  historyOf,
  registration,
  startService,
  waitForProjection,
} from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import type { BackendServiceInput } from './inputs.js';
import { approveUpdate, stateQuery, submitUpdate, workflowIdOf } from './messages.js';
import { DEFAULT_PROVISIONING_MAX_ROUNDS } from './retry-timing.js';

/**
 * An approval's production provisioning is bounded (patch provisioning-max-rounds): after
 * `provisioningMaxRounds` failed rounds (PROVISIONING_MAX_ROUNDS, default 12) the approval ends as
 * failed, the service stays under review, and an administrator approves again once production is fixed.
 */
const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

/** Rounds in which production was asked for the Client: one activity per round, its attempts inside. */
async function productionClientRounds(handle: WorkflowHandle): Promise<number> {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.filter((e) => {
    const summary = e.userMetadata?.summary?.data;
    return (
      e.activityTaskScheduledEventAttributes &&
      summary instanceof Uint8Array &&
      JSON.parse(Buffer.from(summary).toString()) === 'Production: upsert Client (inactive)'
    );
  }).length;
}

/** The workflow input its first run started with, as the API sent it. */
async function startInput(handle: WorkflowHandle): Promise<BackendServiceInput> {
  const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
  const data = started?.input?.payloads?.[0]?.data;
  if (!(data instanceof Uint8Array)) throw new Error('no start input in the history');
  return JSON.parse(Buffer.from(data).toString()) as BackendServiceInput;
}

describe('bounded provisioning rounds', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem();
  });
  afterAll(async () => {
    await system?.stop();
  });

  async function submitted(maxRounds: number) {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
      input: { provisioningMaxRounds: maxRounds },
    });
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);
    const approve = { actor: bob, revision: 1, policyHash: submission!.productionPolicies.policyHash };
    return { serviceId, handle, approve };
  }

  it('production failing every attempt: after the last round the approval is failed and the service stays under review', async () => {
    const rounds = 3;
    const { serviceId, handle, approve } = await submitted(rounds);
    system.standins.production.setFaults({ errorRate: 1 });
    try {
      await handle.executeUpdate(approveUpdate, { args: [approve] });
      const failed = await waitForProjection(system.db, serviceId, (s) => s.approval?.state === 'failed');
      expect(failed.status).toBe('under_review');
      expect(failed.approval).toMatchObject({
        state: 'failed',
        by: 'bob',
        attempts: rounds * FAST_RETRY.attemptsPerRound,
        lastError: { environment: 'production', status: 503, kind: 'AidboxUnavailable' },
      });
      expect(await productionClientRounds(handle)).toBe(rounds);
      expect((await historyOf(system.db, serviceId)).at(-1)).toMatchObject({
        action: 'approval-failed',
        from_status: 'under_review',
        to_status: 'under_review',
        reason: 'AidboxUnavailable',
      });
      // It stays failed: no further round runs once the approval has ended.
      await new Promise((r) => setTimeout(r, 3 * FAST_RETRY.roundDelayMs));
      expect(await productionClientRounds(handle)).toBe(rounds);
    } finally {
      system.standins.production.setFaults({ errorRate: 0 });
    }
    expect(await system.aidbox.production.readClient(serviceId)).toBeUndefined();

    // Fixed: an administrator approves again, and production gets the client.
    await handle.executeUpdate(approveUpdate, { args: [approve] });
    const active = await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
    expect(active.approval).toBeNull();
    expect(await system.aidbox.production.readClient(serviceId)).toMatchObject({ active: true });
    await recordHistory(handle, 'current-provisioning-max-rounds.json');
  });

  it('negative control: with a bound above the rounds run, the approval is still provisioning', async () => {
    const { serviceId, handle, approve } = await submitted(50);
    system.standins.production.setFaults({ errorRate: 1 });
    try {
      await handle.executeUpdate(approveUpdate, { args: [approve] });
      const waiting = await waitForProjection(
        system.db,
        serviceId,
        (s) => (s.approval?.attempts ?? 0) >= 5 * FAST_RETRY.attemptsPerRound,
      );
      expect(waiting.status).toBe('under_review');
      expect(waiting.approval?.state).toBe('provisioning');
      expect(await productionClientRounds(handle)).toBeGreaterThan(3);
    } finally {
      system.standins.production.setFaults({ errorRate: 0 });
    }
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
  });

  it('the API passes PROVISIONING_MAX_ROUNDS in the input of each workflow it starts (default 12)', async () => {
    const ids = await createIdentities();
    const headers = await ids.bearer('alice', ['developer']);
    const appWith = (env: Record<string, string>) =>
      createApp({
        config: testConfig({ TEMPORAL_TASK_QUEUE: system.worker.taskQueue, ...env }),
        db: system.db,
        temporal: system.client,
        log: createLogger('api', 'silent'),
        verifier: ids.verifier,
        secrets: system.secretStore,
        workflowRetry: FAST_RETRY,
      });
    const startedWith = async (env: Record<string, string>) => {
      const created = await appWith(env).request(
        '/v1/backend-services',
        jsonRequest('POST', validRegistration(), headers),
      );
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      return startInput(system.client.workflow.getHandle(workflowIdOf(id)));
    };
    expect((await startedWith({ PROVISIONING_MAX_ROUNDS: '2' })).provisioningMaxRounds).toBe(2);
    expect((await startedWith({})).provisioningMaxRounds).toBe(DEFAULT_PROVISIONING_MAX_ROUNDS);
    expect(DEFAULT_PROVISIONING_MAX_ROUNDS).toBe(12);
  });
});
