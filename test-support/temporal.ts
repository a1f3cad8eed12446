import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ActivityDependencies } from '../activities/index.js';
import type { CommandVerification } from '../worker/command-verifier.js';
import { createWorker } from '../worker/create-worker.js';
import { testCommandVerification, testSigningInterceptor } from './command-keys.js';
import { ownTemporalConnectionOptions } from './temporal-server.js';

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

/** How to reach the run's Temporal (global-setup.ts): the dev server's address, or a cluster's too with its mTLS and token files. */
export function temporalConnectionOptions(address = inject('temporalAddress')) {
  return ownTemporalConnectionOptions(
    address,
    JSON.parse(inject('temporalClientEnv')) as Record<string, string>,
  );
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/**
 * A client of the run's dev server. It signs starts and updates with the run's command key, as the
 * API does; `{ signed: false }` is an outsider's client that sends what it is given.
 */
export async function testClient(
  address = inject('temporalAddress'),
  options: { signed?: boolean } = {},
): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(address));
  return new Client({
    connection,
    ...(options.signed === false ? {} : { interceptors: { workflow: [testSigningInterceptor()] } }),
  });
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

/** A worker on a fresh task queue, running the run's shared workflow bundle, until `stop()`. */
export async function startTestWorker(
  deps: ActivityDependencies,
  options: {
    taskQueue?: string;
    address?: string;
    maxCachedWorkflows?: number;
    /** Default: the run's verify keys. */
    commandVerification?: CommandVerification;
  } = {},
): Promise<RunningWorker> {
  quietRuntime();
  const taskQueue = options.taskQueue ?? uniqueTaskQueue();
  const connection = await NativeConnection.connect(temporalConnectionOptions(options.address));
  const worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps,
    commandVerification: options.commandVerification ?? testCommandVerification(),
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
