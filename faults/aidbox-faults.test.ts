import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  driveLifecycle,
  handleOf,
  planLifecycles,
  settled,
  startLifecycle,
  waitForWorkflowState,
  type Lifecycle,
} from '../test-support/faults/lifecycles.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import {
  expectAllSettledAndConsistent,
  expectChecksCatchPlantedFaults,
} from '../test-support/faults/verify.js';
import { SOAK } from '../test-support/faults/worker-process.js';

/**
 * Both Aidbox stand-ins fail 30 % of requests with 503, drop 5 % of connections and add latency:
 * every lifecycle still completes, consistently; while they run, DescribeWorkflowExecution shows
 * pending activities retrying (attempt > 1) whose last failure names the status, never a body.
 */
const LIFECYCLES = SOAK ? 40 : 8;
const FAULTS = { errorRate: 0.3, dropRate: 0.05, latencyMs: 40 };

interface PendingSample {
  activity: string;
  attempt: number;
  message: string;
}

/** A failure message fit for history: names the status (or the connection failure), carries no body. */
export function namesStatusNotBody(message: string): boolean {
  const namesStatus = /answered \d{3}\b|failed to connect/.test(message);
  const carriesBody = /[{}[\]"]|OperationOutcome|Injected fault|diagnostics|issue/i.test(message);
  return namesStatus && !carriesBody;
}

describe('fault: Aidbox failing (30 % errors), dropping connections and slow', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await startTestSystem({ faults: FAULTS });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it(
    `${LIFECYCLES} lifecycles all complete; pending activities show attempt > 1 and a status-only last failure`,
    async () => {
      const lifecycles = planLifecycles(LIFECYCLES);
      for (const lifecycle of lifecycles) await startLifecycle(system.client, system.taskQueue, lifecycle);

      // Sample what an operator would see in the Web UI while the faults last.
      const samples: PendingSample[] = [];
      let driving = true;
      const sampler = (async () => {
        while (driving) {
          await Promise.all(
            lifecycles.map(async ({ serviceId }) => {
              const { raw } = await handleOf(system.client, serviceId).describe();
              for (const pending of raw.pendingActivities ?? []) {
                if ((pending.attempt ?? 0) > 1 && pending.lastFailure?.message) {
                  samples.push({
                    activity: pending.activityType?.name ?? '?',
                    attempt: pending.attempt!,
                    message: pending.lastFailure.message,
                  });
                }
              }
            }),
          );
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      try {
        await Promise.all(lifecycles.map((l) => driveLifecycle(system.client, l, 180_000)));
        await Promise.all(
          lifecycles.map((l) => waitForWorkflowState(system.client, l.serviceId, settled(l.plan), 180_000)),
        );
      } finally {
        driving = false;
        await sampler;
      }

      const aidboxSamples = samples.filter((s) => /Client|Policies|policies/.test(s.activity));
      expect(aidboxSamples.length, 'no retrying Aidbox activity was ever seen pending').toBeGreaterThan(0);
      expect(aidboxSamples.filter((s) => !namesStatusNotBody(s.message))).toEqual([]);
      expect(aidboxSamples.some((s) => /answered 503/.test(s.message))).toBe(true);

      system.standins.sandbox.setFaults({ errorRate: 0, dropRate: 0, latencyMs: 0 });
      system.standins.production.setFaults({ errorRate: 0, dropRate: 0, latencyMs: 0 });
      const states = await expectAllSettledAndConsistent(system, lifecycles);
      await expectChecksCatchPlantedFaults(system, lifecycles, states);
    },
    SOAK ? 900_000 : 240_000,
  );

  it('negative control: the status-only check flags a failure message carrying a response body', () => {
    expect(namesStatusNotBody('production Aidbox: PUT /fhir/Client/bs-1 answered 503')).toBe(true);
    expect(namesStatusNotBody('sandbox Aidbox: GET /fhir/Client/bs-1 failed to connect')).toBe(true);
    expect(
      namesStatusNotBody(
        'production Aidbox: PUT /fhir/Client/bs-1 answered 503: {"resourceType":"OperationOutcome","issue":[{"diagnostics":"Injected fault"}]}',
      ),
    ).toBe(false);
    expect(namesStatusNotBody('fetch failed')).toBe(false);
  });

  it('negative control: with production failing every request the approval does not complete, and completes once it recovers', async () => {
    system.standins.production.setFaults({ errorRate: 1, dropRate: 0, latencyMs: 0 });
    const [lifecycle] = planLifecycles(1) as [Lifecycle];
    await startLifecycle(system.client, system.taskQueue, lifecycle);
    const driving = driveLifecycle(system.client, lifecycle, 60_000);
    const stuck = await waitForWorkflowState(
      system.client,
      lifecycle.serviceId,
      (s) => s.approval?.lastError?.status === 503,
      30_000,
    );
    expect(stuck.status).toBe('under_review');
    expect(stuck.approval).toMatchObject({ state: 'provisioning' });
    expect(stuck.approval!.attempts).toBeGreaterThan(1);

    system.standins.production.setFaults({ errorRate: 0 });
    await driving;
    await waitForWorkflowState(system.client, lifecycle.serviceId, settled('active'), 30_000);
  }, 90_000);
});
