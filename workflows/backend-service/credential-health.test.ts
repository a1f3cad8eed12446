import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHistory } from '../../test-support/histories.js';
import { startKeyServer, type TestKeyServer } from '../../test-support/key-server.js';
import { historyOf, registration, startService, waitForProjection } from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { startTestWorker, uniqueTaskQueue, type RunningWorker } from '../../test-support/temporal.js';
import { spawnWorkerProcess } from '../../test-support/worker-process.js';
import { approveUpdate, stateQuery, submitUpdate } from './messages.js';
import { nextWaitSeconds } from './credential-health.js';
import type { backendService } from './workflow.js';

const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };
/** JWKS_HEALTH_INTERVAL_SECONDS=2, JWKS_HEALTH_RETRY_SECONDS=1, as the issue asks for tests. */
const FAST_HEALTH = { intervalSeconds: 2, retrySeconds: 1 };

describe('the schedule', () => {
  const timing = { intervalSeconds: 86_400, retrySeconds: 3_600, maxRetrySeconds: 21_600 };
  it('is the interval ±10 % while ok, and after failures 1 h, 2 h, 4 h, then 6 h at most', () => {
    expect(nextWaitSeconds(timing, 0, () => 0)).toBeCloseTo(77_760);
    expect(nextWaitSeconds(timing, 0, () => 1)).toBeCloseTo(95_040);
    expect([1, 2, 3, 4, 5].map((n) => nextWaitSeconds(timing, n, () => 0.5))).toEqual([
      3_600, 7_200, 14_400, 21_600, 21_600,
    ]);
  });
});

describe('live JWKS services are watched on a durable timer', () => {
  let system: TestSystem;
  let keys: TestKeyServer;
  let watcher: RunningWorker;
  const spawned: ChildProcess[] = [];
  const secretKey = randomBytes(32);

  beforeAll(async () => {
    system = await startTestSystem({ secretKey });
    keys = await startKeyServer();
    watcher = await startTestWorker({ ...system.deps, credentialHealth: FAST_HEALTH });
  });
  afterAll(async () => {
    for (const child of spawned) child.kill('SIGKILL');
    await watcher?.stop();
    await keys?.close();
    await system?.stop();
  });

  async function liveJwksService(taskQueue: string, jwksUri = keys.jwksUri) {
    const { serviceId, handle } = await startService(system, registration({ type: 'jwks_uri', jwksUri }), {
      taskQueue,
    });
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready', 60_000);
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);
    await handle.executeUpdate(approveUpdate, {
      args: [
        { actor: bob, revision: submission!.revision, policyHash: submission!.productionPolicies.policyHash },
      ],
    });
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active', 60_000);
    return { serviceId, handle };
  }

  const searchAttribute = async (handle: WorkflowHandle<typeof backendService>) =>
    (await handle.describe()).searchAttributes['BackendServiceCredentialHealth'];

  it('a key server answering 500 makes the service failing (still active), and ok again when it recovers', async () => {
    const { serviceId, handle } = await liveJwksService(watcher.taskQueue);
    const first = await waitForProjection(system.db, serviceId, (s) => s.credentials.health?.report != null);
    expect(first.credentials.health).toMatchObject({ state: 'ok', failures: 0 });
    try {
      keys.failWith(500);
      const failing = await waitForProjection(
        system.db,
        serviceId,
        (s) => s.credentials.health?.state === 'failing',
      );
      expect(failing.status).toBe('active');
      expect(failing.credentials.health!.report!.summary).toMatch(/500/);
      // The search attribute lands when the workflow task completes, just after the projection.
      await expect.poll(() => searchAttribute(handle), { timeout: 10_000 }).toEqual(['failing']);
      const entries = await historyOf(system.db, serviceId);
      expect(entries.at(-1)).toMatchObject({ action: 'credentials-failing', actor: 'system' });
      // Retried sooner than the interval, doubling: two failed checks within a few seconds.
      await waitForProjection(system.db, serviceId, (s) => (s.credentials.health?.failures ?? 0) >= 2);
      const since = failing.credentials.health!.since;
      keys.restore();
      const recovered = await waitForProjection(
        system.db,
        serviceId,
        (s) => s.credentials.health?.state === 'ok',
      );
      expect(Date.parse(recovered.credentials.health!.since)).toBeGreaterThan(Date.parse(since));
      expect(recovered.status).toBe('active');
      await expect.poll(() => searchAttribute(handle), { timeout: 10_000 }).toEqual(['ok']);
      expect((await historyOf(system.db, serviceId)).at(-1)).toMatchObject({
        action: 'credentials-recovered',
      });
    } finally {
      keys.restore();
    }
    await recordHistory(handle, 'current-credential-health.json');
  });

  it('a key removed from the set is named in the next check', async () => {
    const extra = await generateKeyPair('RS384', { extractable: true });
    const second = { ...(await exportJWK(extra.publicKey)), kid: 'second-key', alg: 'RS384', use: 'sig' };
    const bothKeys = { keys: [keys.publicJwk, second] };
    keys.publish(bothKeys);
    try {
      const { serviceId } = await liveJwksService(watcher.taskQueue);
      await waitForProjection(
        system.db,
        serviceId,
        (s) => s.credentials.acceptedThumbprints['second-key'] !== undefined,
      );
      keys.publish({ keys: [keys.publicJwk] });
      const named = await waitForProjection(system.db, serviceId, (s) =>
        (s.credentials.health?.changes ?? []).some((c) => c.kid === 'second-key'),
      );
      expect(named.credentials.health!.changes).toEqual([
        expect.objectContaining({ kid: 'second-key', change: 'removed' }),
      ]);
      // One usable key is left: the set still passes.
      expect(named.credentials.health!.state).toBe('ok');
    } finally {
      keys.restore();
    }
  });

  it(
    'a worker SIGKILLed between checks: the next check still comes on time on another worker',
    { timeout: 120_000 },
    async () => {
      const taskQueue = uniqueTaskQueue('health');
      const spawn = async () => {
        const child = await spawnWorkerProcess({
          taskQueue,
          secretKey,
          environments: system.environments,
          env: { JWKS_HEALTH_INTERVAL_SECONDS: '2', JWKS_HEALTH_RETRY_SECONDS: '1' },
        });
        spawned.push(child);
        return child;
      };
      const first = await spawn();
      const { serviceId } = await liveJwksService(taskQueue);
      const checked = await waitForProjection(
        system.db,
        serviceId,
        (s) => s.credentials.health?.report != null,
        30_000,
      );
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      const killedAt = Date.now();
      await spawn();
      const next = await waitForProjection(
        system.db,
        serviceId,
        (s) => s.credentials.health?.lastCheckedAt !== checked.credentials.health!.lastCheckedAt,
        60_000,
      );
      const due = Date.parse(checked.credentials.health!.nextCheckAt);
      expect(Date.parse(next.credentials.health!.lastCheckedAt!)).toBeGreaterThanOrEqual(due - 50);
      // On time: at most a few seconds after it was due, or after the new worker came up.
      expect(Date.parse(next.credentials.health!.lastCheckedAt!) - Math.max(due, killedAt)).toBeLessThan(
        30_000,
      );
    },
  );
});
