/**
 * The worker process for `bench:many-workflows`: worker/main.ts's configuration (environment,
 * activity dependencies) plus MAX_CACHED_WORKFLOWS, which the product's worker leaves at the SDK
 * default. A separate process so its resident memory is the worker's alone.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createDb } from '../../db/database.js';
import { commandVerifyKeysFromConfig } from '../../platform/command-keys.js';
import { loadConfigOrExit, workerSchema } from '../../platform/config.js';
import { activityDependenciesFromConfig } from '../../worker/activity-dependencies.js';
import { createWorker } from '../../worker/create-worker.js';

const config = loadConfigOrExit(workerSchema);
Runtime.install({ logger: new DefaultLogger('ERROR') });
const db = createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
const worker = await createWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  deps: activityDependenciesFromConfig(config, db),
  commandVerification: { keys: await commandVerifyKeysFromConfig(config) },
  workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH! },
  // Unset: the SDK default the product's worker runs with (derived from the heap limit).
  ...(process.env.MAX_CACHED_WORKFLOWS
    ? { maxCachedWorkflows: Number(process.env.MAX_CACHED_WORKFLOWS) }
    : {}),
});
process.on('SIGTERM', () => worker.shutdown());
process.stdout.write(`worker polling cache=${worker.options.maxCachedWorkflows}\n`);
await worker.run();
await connection.close();
await db.destroy();
