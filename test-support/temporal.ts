import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ActivityDependencies } from '../activities/index.js';
import { createWorker } from '../worker/create-worker.js';

/** Everything the SDK logged in this test process (worker and activities), for the secret-absence test. */
export const workerLogLines: string[] = [];

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('DEBUG', (entry) => {
      const line = `${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}`;
      workerLogLines.push(line);
      if (entry.level === 'WARN' || entry.level === 'ERROR') process.stderr.write(line + '\n');
    }),
  });
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A client of the run's dev server. */
export async function testClient(address = inject('temporalAddress')): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection });
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** A worker on a fresh task queue, running the run's shared workflow bundle, until `stop()`. */
export async function startTestWorker(
  deps: ActivityDependencies,
  options: { taskQueue?: string; address?: string; maxCachedWorkflows?: number } = {},
): Promise<RunningWorker> {
  quietRuntime();
  const taskQueue = options.taskQueue ?? uniqueTaskQueue();
  const connection = await NativeConnection.connect({
    address: options.address ?? inject('temporalAddress'),
  });
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
