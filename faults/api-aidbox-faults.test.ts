import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  driveLifecycleOverHttp,
  serverFaults,
  startFaultApi,
  type FaultApi,
} from '../test-support/faults/api.js';
import { settled, waitForWorkflowState, type Lifecycle, PLANS } from '../test-support/faults/lifecycles.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import { expectAllSettledAndConsistent } from '../test-support/faults/verify.js';
import { SOAK } from '../test-support/faults/worker-process.js';

/**
 * The stand-in faults of aidbox-faults.test.ts (30 % errors, dropped connections, latency), with
 * every lifecycle driven through the HTTP API: the API never answers a 5xx other than a 503
 * problem (retry later), every lifecycle still ends where its messages sent it, and the read model,
 * history, both Aidboxes and Temporal agree with it.
 */
const LIFECYCLES = SOAK ? 24 : 8;
const FAULTS = { errorRate: 0.3, dropRate: 0.05, latencyMs: 40 };

describe('fault: Aidbox failing, lifecycles through the HTTP API', () => {
  let system: TestSystem;
  let api: FaultApi;

  beforeAll(async () => {
    system = await startTestSystem({ faults: FAULTS });
    api = await startFaultApi(system);
  });
  afterAll(async () => {
    await system?.stop();
  });

  it(
    `${LIFECYCLES} lifecycles over HTTP under stand-in faults: no 500, all complete consistently`,
    async () => {
      const plans = Array.from({ length: LIFECYCLES }, (_, i) => PLANS[i % PLANS.length]!);
      const waitActive = (id: string) => waitForWorkflowState(system.client, id, settled('active'), 180_000);
      const lifecycles: Lifecycle[] = await Promise.all(
        plans.map(async (plan) => ({ plan, serviceId: await driveLifecycleOverHttp(api, plan, waitActive) })),
      );
      expect(serverFaults(api.answers)).toEqual([]);
      // The stand-ins did fail requests (else "no 500 under faults" would be a claim about no faults).
      const injected = [system.standins.sandbox, system.standins.production].map((s) => s.faults.injected);
      expect(injected.reduce((n, i) => n + i.errors + i.drops, 0)).toBeGreaterThan(0);
      console.info(
        `API answers: ${api.answers.length}, of which 503: ${api.answers.filter((a) => a.status === 503).length}`,
      );

      system.standins.sandbox.setFaults({ errorRate: 0, dropRate: 0, latencyMs: 0 });
      system.standins.production.setFaults({ errorRate: 0, dropRate: 0, latencyMs: 0 });
      // Through HTTP, submit and approve follow create at once: the sandbox may still be retrying
      // its provisioning when the service goes active. It must get there once the faults stop.
      await Promise.all(
        lifecycles
          .filter((l) => l.plan !== 'deactivated')
          .map((l) =>
            waitForWorkflowState(system.client, l.serviceId, (s) => s.sandbox.state === 'ready', 60_000),
          ),
      );
      await expectAllSettledAndConsistent(system, lifecycles, 180_000);
      // Reads through the API agree with the workflow (200, same status and revision).
      for (const { serviceId } of lifecycles) {
        const detail = await api.call('GET', `/v1/backend-services/${serviceId}`, 'alice');
        expect(detail.status).toBe(200);
      }
      expect(serverFaults(api.answers)).toEqual([]);
    },
    SOAK ? 900_000 : 240_000,
  );

  it('negative control: the no-500 check names a 500, a 502 and a 503 without a problem body', () => {
    const problem503 = {
      method: 'GET',
      path: '/ok',
      status: 503,
      contentType: 'application/problem+json',
      body: { type: '/problems/service-unavailable', title: 't', status: 503, detail: 'd' },
    };
    expect(serverFaults([problem503])).toEqual([]);
    const planted = [
      { ...problem503, path: '/a', status: 500, body: { ...problem503.body, status: 500 } },
      { ...problem503, path: '/b', status: 502, body: { ...problem503.body, status: 502 } },
      { ...problem503, path: '/c', contentType: 'text/plain', body: 'Service Unavailable' },
    ];
    expect(serverFaults([problem503, ...planted]).map((f) => f.split(' ')[1])).toEqual(['/a', '/b', '/c']);
  });
});
