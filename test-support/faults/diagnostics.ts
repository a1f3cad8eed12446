import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { workflowIdOf } from '../../workflows/backend-service/messages.js';

const RESULTS = path.resolve(import.meta.dirname, '../../test-results/faults');

/** When `work` fails, writes the service's workflow history to test-results/faults/ (gitignored) first: fault runs are hard to reproduce. */
export async function keepHistoryOnFailure<T>(
  client: Client,
  serviceId: string,
  work: Promise<T>,
): Promise<T> {
  try {
    return await work;
  } catch (error) {
    try {
      const history = await client.workflow.getHandle(workflowIdOf(serviceId)).fetchHistory();
      mkdirSync(RESULTS, { recursive: true });
      const file = path.join(RESULTS, `${serviceId}-${Date.now()}.json`);
      writeFileSync(file, historyToJSON(history));
      console.error(`history of ${serviceId} kept in ${file}`);
    } catch {
      // The history is a help, not the failure.
    }
    throw error;
  }
}
