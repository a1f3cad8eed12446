import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import type { RunningWorker } from '../test-support/temporal.js';
import type { Client } from '@temporalio/client';

describe('platform probe (smoke test: Temporal → worker → activity → PostgreSQL)', () => {
  let system: TestSystem;
  let db: Db;
  let client: Client;
  let worker: RunningWorker;

  beforeAll(async () => {
    system = await startTestSystem();
    ({ db, client, worker } = system);
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('runs on the dev server and its projection is read back from PostgreSQL', async () => {
    const probeId = `probe-${randomUUID()}`;
    const result = await client.workflow.execute('platformProbe', {
      taskQueue: worker.taskQueue,
      workflowId: probeId,
      args: [{ probeId, note: 'hello from the probe' }],
    });
    expect(result).toEqual({ probeId, recorded: true });
    const row = await db
      .selectFrom('platform_probe')
      .selectAll()
      .where('probe_id', '=', probeId)
      .executeTakeFirst();
    expect(row?.note).toBe('hello from the probe');
    expect(Date.now() - Date.parse(row!.recorded_at)).toBeLessThan(60_000);
  });
});
