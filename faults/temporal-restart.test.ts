import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freePort, isPortBusy } from '../platform/ports.js';
import { startDevServer, type DevServer } from '../platform/temporal-dev-server.js';
import { driveLifecycle, planLifecycles, startLifecycle } from '../test-support/faults/lifecycles.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import {
  expectAllSettledAndConsistent,
  expectChecksCatchPlantedFaults,
} from '../test-support/faults/verify.js';
import { SOAK } from '../test-support/faults/worker-process.js';

/**
 * The Temporal dev server killed (SIGKILL: an application crash) and started again on the same
 * SQLite file and port while lifecycles are in flight: none is lost, none duplicated, and the
 * worker and clients carry on without being restarted.
 */
const LIFECYCLES = SOAK ? 40 : 14; // 11 of 14 send messages (every 4th stays a draft)
const RESTARTS = SOAK ? 3 : 1;

// It restarts a dev server of its own; on a cluster run (TEST_TEMPORAL=cluster) the cluster suite
// restarts history and matching instead (deploy/topology.cluster-test.ts).
describe.skipIf(inject('temporalTarget') === 'cluster')(
  'fault: Temporal dev server restarted with lifecycles in flight',
  () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'bs-restart-'));
    const dbFile = path.join(scratch, 'temporal.db');
    let port: number;
    let server: DevServer | undefined;
    let system: TestSystem;

    const start = () => startDevServer({ cli: inject('temporalCliPath'), port, headless: true, dbFile });

    beforeAll(async () => {
      port = await freePort();
      server = await start();
      system = await startTestSystem({ temporalAddress: server.address });
    });
    afterAll(async () => {
      await system?.stop();
      await server?.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    it(
      `${LIFECYCLES} lifecycles, ${RESTARTS} restart(s) of the server on the same database file`,
      async () => {
        const lifecycles = planLifecycles(LIFECYCLES);
        for (const lifecycle of lifecycles) await startLifecycle(system.client, system.taskQueue, lifecycle);
        const unfinished = new Set(lifecycles.filter((l) => l.plan !== 'draft').map((l) => l.serviceId));
        const drivers = Promise.all(
          lifecycles.map((l) =>
            driveLifecycle(system.client, l, 180_000).then(() => unfinished.delete(l.serviceId)),
          ),
        );

        const ids = lifecycles.map((l) => l.serviceId);
        /** Decisions in the history of this test's services: each one is a message the server carried. */
        const historyRows = async () => {
          const row = await system.db
            .selectFrom('backend_service_history')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('service_id', 'in', ids)
            .where('action', 'in', ['submit', 'approve', 'reject', 'deactivate'])
            .executeTakeFirstOrThrow();
          return Number(row.n);
        };
        for (let restart = 0; restart < RESTARTS; restart += 1) {
          // Kill only once the server carries messages (a submit or later was applied since the last
          // start), rather than after a fixed pause that a loaded machine may not have used.
          const rowsAtStart = await historyRows();
          await expect
            .poll(async () => (await historyRows()) > rowsAtStart || unfinished.size === 0, {
              timeout: 60_000,
              interval: 50,
            })
            .toBe(true);
          // Messages still being sent when the server dies: those are the lifecycles in flight.
          if (restart === 0) expect(unfinished.size).toBeGreaterThanOrEqual(10);
          const dying = server!;
          server = undefined;
          const exited = new Promise((r) => dying.process.once('exit', r));
          dying.process.kill('SIGKILL');
          await exited;
          // The new server needs the same port: wait until the kernel released it.
          await expect.poll(() => isPortBusy(port), { timeout: 30_000, interval: 100 }).toBe(false);
          server = await start();
        }
        await drivers;

        const states = await expectAllSettledAndConsistent(system, lifecycles, 180_000);
        await expectChecksCatchPlantedFaults(system, lifecycles, states);
      },
      SOAK ? 900_000 : 240_000,
    );
  },
);
