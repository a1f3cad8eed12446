/**
 * The worker process for `bench:many-workflows`: worker/main.ts's configuration (environment,
 * activity dependencies, the cache and heap limits from WORKER_MEMORY_BUDGET_MB by worker/memory-plan.ts) with
 * no tracing and no metrics. MAX_CACHED_WORKFLOWS overrides the cache size. A separate process so
 * its resident memory is the worker's alone.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createDb } from '../../db/database.js';
import { commandVerifyKeysFromConfig } from '../../platform/command-keys.js';
import { loadConfigOrExit, workerSchema } from '../../platform/config.js';
import { activityDependenciesFromConfig } from '../../worker/activity-dependencies.js';
import { workerMemoryPlan } from '../../worker/memory-plan.js';
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
  maxCachedWorkflows: process.env.MAX_CACHED_WORKFLOWS
    ? Number(process.env.MAX_CACHED_WORKFLOWS)
    : workerMemoryPlan(config.WORKER_MEMORY_BUDGET_MB).maxCachedWorkflows,
});
process.on('SIGTERM', () => worker.shutdown());
process.stdout.write(`worker polling cache=${worker.options.maxCachedWorkflows}\n`);
await worker.run();
await connection.close();
await db.destroy();
