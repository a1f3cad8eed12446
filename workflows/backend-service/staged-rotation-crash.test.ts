import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registration,
  startService,
  tokenWithSecret,
  waitForProjection,
} from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { uniqueTaskQueue } from '../../test-support/temporal.js';
import { spawnWorkerProcess } from '../../test-support/worker-process.js';
import { approveUpdate, rotateSecretUpdate, stateQuery, submitUpdate } from './messages.js';

const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

/**
 * A staged secret goes live on a durable workflow timer: the worker that staged it is SIGKILLed,
 * another starts, and the switch still comes at activateAt (not before, and not lost).
 */
describe('staged rotation across a worker SIGKILL', () => {
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

  it('the new secret goes live at activateAt on the next worker', { timeout: 120_000 }, async () => {
    const taskQueue = uniqueTaskQueue('staged');
    const spawn = async () => {
      const worker = await spawnWorkerProcess({ taskQueue, secretKey, environments: system.environments });
      workers.push(worker);
      return worker;
    };
    const first = await spawn();
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
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
    const old = await system.secretStore.reveal(serviceId, 1);
    const activateAt = new Date(Date.now() + 8_000).toISOString();
    await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice, activateAt }] });
    const next = await system.secretStore.reveal(serviceId, 2);

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const status = (secret: string) =>
      tokenWithSecret(system.standins.production.url, serviceId, secret, 'system/Patient.rs').then(
        (r) => r.status,
      );
    // While no worker runs, and before its time, the old secret is the live one.
    expect(await status(old)).toBe(200);
    expect(await status(next)).toBe(400);

    await spawn();
    const live = await waitForProjection(
      system.db,
      serviceId,
      (s) => s.credentials.secret?.version === 2,
      60_000,
    );
    expect(Date.parse(live.updatedAt)).toBeGreaterThanOrEqual(Date.parse(activateAt));
    expect(await status(next)).toBe(200);
    expect(await status(old)).toBe(400);
  });
});
