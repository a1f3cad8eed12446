import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientWrites, registration, startService, waitForProjection } from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { uniqueTaskQueue } from '../../test-support/temporal.js';
import { spawnWorkerProcess } from '../../test-support/worker-process.js';
import { approveUpdate, stateQuery, submitUpdate } from './messages.js';

const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

const spawnWorker = (system: TestSystem, taskQueue: string, secretKey: Buffer) =>
  spawnWorkerProcess({ taskQueue, secretKey, environments: system.environments });

/** Requests that could create the service's Client (PUT or POST on a Client path), as logged. */
describe('worker killed mid-approval', () => {
  const secretKey = randomBytes(32);
  let system: TestSystem;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    system = await startTestSystem({ withWorker: false, secretKey });
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await system?.stop();
  });

  // Longer than the inner waits (20 s for the kill, 60 s to become active after it), so on a loaded
  // 2-core machine a slow run fails on the wait that names what did not happen.
  it(
    'SIGKILL after production applied the Client PUT: the service ends active with exactly one Client and one policy set',
    { timeout: 150_000 },
    async () => {
      const taskQueue = uniqueTaskQueue('crash');
      const first = await spawnWorker(system, taskQueue, secretKey);
      workers.push(first);
      const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
        taskQueue,
      });
      await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
      await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
      const { submission } = await handle.query(stateQuery);

      // The production stand-in tells us when it has applied the Client PUT; the worker dies before
      // the activity can report completion.
      let killedAt: number | undefined;
      system.standins.production.hooks.afterClientPut = (client) => {
        if (client.id === serviceId && killedAt === undefined) {
          killedAt = Date.now();
          first.kill('SIGKILL');
        }
      };
      await handle.executeUpdate(approveUpdate, {
        args: [{ actor: bob, revision: 1, policyHash: submission!.productionPolicies.policyHash }],
      });
      await expect.poll(() => killedAt, { timeout: 20_000 }).toBeDefined();
      await new Promise<void>((resolve) =>
        first.exitCode !== null || first.signalCode ? resolve() : first.once('exit', () => resolve()),
      );
      expect(first.signalCode).toBe('SIGKILL');

      workers.push(await spawnWorker(system, taskQueue, secretKey));
      const active = await waitForProjection(system.db, serviceId, (s) => s.status === 'active', 60_000);
      expect(active.productionProvisioned).toBe(true);

      // The interrupted activity was retried on the new worker.
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      const upsertScheduled = events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'upsertClient')
        .map((e) => Number(e.eventId));
      const attempts = events
        .filter((e) =>
          upsertScheduled.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId)),
        )
        .map((e) => e.activityTaskStartedEventAttributes!.attempt);
      expect(Math.max(...attempts.map(Number))).toBeGreaterThan(1);

      // Exactly one Client created in production. The stand-in stores by id, so counting stored
      // Clients could not see a second create; its request log can: the retried upsert must have
      // found the Client and patched it, never created (PUT/POST) it again.
      const creates = clientWrites(system.standinLogLines, 'production', serviceId);
      expect(creates).toEqual([expect.stringMatching(/^PUT .*\/Client\/.* 201$/)]);
      const stored = system.standins.production.store.get('Client', serviceId);
      expect(stored).toMatchObject({ active: true });
      const policies = await system.aidbox.production.listAccessPoliciesForClient(serviceId);
      expect(policies.map((p) => p.id).sort()).toEqual(
        submission!.productionPolicies.policies.map((p) => p.id).sort(),
      );
    },
  );
});
