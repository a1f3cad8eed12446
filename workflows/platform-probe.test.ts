import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createDb, type Db } from '../db/database.js';
import { startTestWorker, testClient, type RunningWorker } from '../test-support/temporal.js';
import type { Client } from '@temporalio/client';

describe('platform probe (smoke test: Temporal → worker → activity → PostgreSQL)', () => {
  let db: Db;
  let client: Client;
  let worker: RunningWorker;

  beforeAll(async () => {
    db = createDb(inject('databaseUrl'));
    client = await testClient();
    worker = await startTestWorker({ db });
  });

  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
    await db?.destroy();
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
