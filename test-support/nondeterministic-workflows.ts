// A deliberately non-deterministic variant of the Backend Service workflow, for the replay test's
// negative control: it schedules a timer the recorded histories never saw, so replay must fail.
import { sleep } from '@temporalio/workflow';
import { backendService as realBackendService } from '../workflows/backend-service/workflow.js';
import type { BackendServiceInput } from '../workflows/backend-service/inputs.js';

export async function backendService(input: BackendServiceInput) {
  await sleep(1);
  return realBackendService(input);
}
