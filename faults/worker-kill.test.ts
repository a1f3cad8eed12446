import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepHistoryOnFailure } from '../test-support/faults/diagnostics.js';
import { driveLifecycle, planLifecycles, startLifecycle } from '../test-support/faults/lifecycles.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import {
  expectAllSettledAndConsistent,
  expectChecksCatchPlantedFaults,
} from '../test-support/faults/verify.js';
import { SOAK, killWorker, spawnWorker } from '../test-support/faults/worker-process.js';

/**
 * Worker killed repeatedly (SIGKILL of the real worker process) while lifecycles are in flight:
 * every service ends where its messages sent it, with exactly one Client and one policy set per
 * service in each Aidbox, and each transition recorded once.
 */
const LIFECYCLES = SOAK ? 50 : 12;
const MIN_KILLS = SOAK ? 8 : 3;
// Each kill stalls the service for up to the sticky-queue and task timeouts (~10 s): bounded by default.
const MAX_KILLS = SOAK ? 25 : 4;

describe('fault: worker killed repeatedly during lifecycles in flight', () => {
  let system: TestSystem;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    system = await startTestSystem({ withWorker: false });
  });
  afterAll(async () => {
    if (worker) await killWorker(worker);
    await system?.stop();
  });

  it(
    `${LIFECYCLES} lifecycles, worker SIGKILLed at least ${MIN_KILLS} times (once right after a production Client PUT)`,
    async () => {
      worker = await spawnWorker(system);
      const lifecycles = planLifecycles(LIFECYCLES);
      for (const lifecycle of lifecycles) await startLifecycle(system.client, system.taskQueue, lifecycle);

      // One kill lands in the worst place: production applied the write, the activity never reported it.
      let killOnNextPut = true;
      let kills = 0;
      const killAndRespawn = async () => {
        const dying = worker!;
        worker = undefined;
        await killWorker(dying);
        kills += 1;
        worker = await spawnWorker(system);
      };
      let pending: Promise<void> = Promise.resolve();
      system.standins.production.hooks.afterClientPut = () => {
        if (!killOnNextPut || !worker) return;
        killOnNextPut = false;
        pending = killAndRespawn();
      };

      let driving = true;
      const drivers = Promise.all(
        lifecycles.map((l) =>
          keepHistoryOnFailure(system.client, l.serviceId, driveLifecycle(system.client, l, 180_000)),
        ),
      ).finally(() => (driving = false));
      const killer = (async () => {
        while ((driving && kills < MAX_KILLS) || kills < MIN_KILLS) {
          await new Promise((r) => setTimeout(r, 1_500 + Math.random() * 2_000));
          await pending;
          if (worker) await killAndRespawn();
        }
      })();
      const started = Date.now();
      await Promise.all([drivers, killer]);
      await pending;
      console.info(
        `worker-kill: ${kills} kills, messages driven in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
      expect(killOnNextPut).toBe(false);

      const states = await expectAllSettledAndConsistent(system, lifecycles, 180_000);
      await expectChecksCatchPlantedFaults(system, lifecycles, states);
    },
    SOAK ? 1_200_000 : 300_000,
  );
});
