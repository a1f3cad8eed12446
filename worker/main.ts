import { Runtime, DefaultLogger } from '@temporalio/worker';
import { createDb } from '../db/database.js';
import { commandVerifyKeysFromConfig } from '../platform/command-keys.js';
import { ConfigError, loadConfigOrExit, workerSchema } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { exitWithParent } from '../platform/exit-with-parent.js';
import { connectWorker } from '../platform/temporal-connection.js';
import { startTracing } from '../platform/tracing.js';
import { activityDependenciesFromConfig } from './activity-dependencies.js';
import { createWorker } from './create-worker.js';
import { bundleWorkflowsInChild } from './workflow-bundle.js';
import { heapWithinPlan, limitWorkflowThreadHeap, workerMemoryPlan, workerV8Flags } from './memory-plan.js';
import { workerMetricsUrl, workerTelemetryOptions } from './telemetry.js';
import { oncePerRoundFailureLogger } from './failure-log.js';
import { DEFAULT_RETRY_TIMING } from '../workflows/backend-service/retry-timing.js';

const config = loadConfigOrExit(workerSchema);
// First, so the instrumentation is in place before an activity makes a request.
const tracing = await startTracing(config, 'backend-services-worker');
const log = createLogger('worker', config.LOG_LEVEL);
if (tracing) log.info({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing on');
Runtime.install({
  logger: oncePerRoundFailureLogger(
    new DefaultLogger(config.LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN'),
    DEFAULT_RETRY_TIMING.attemptsPerRound,
  ),
  ...workerTelemetryOptions(config),
});
const memoryPlan = workerMemoryPlan(config.WORKER_MEMORY_BUDGET_MB);
if (!heapWithinPlan(memoryPlan)) {
  limitWorkflowThreadHeap(config.WORKER_MEMORY_BUDGET_MB);
  log.warn(
    {
      budgetMb: config.WORKER_MEMORY_BUDGET_MB,
      flags: workerV8Flags(config.WORKER_MEMORY_BUDGET_MB).join(' '),
    },
    'the main heap has no limit from the memory budget: start the worker with these Node flags (npm start, compose and the cluster do)',
  );
}
const metricsUrl = workerMetricsUrl(config);
if (metricsUrl) log.info({ url: metricsUrl }, 'worker metrics listening');

const commandVerifyKeys = await commandVerifyKeysFromConfig(config).catch((error: unknown) => {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(78); // EX_CONFIG
});
const db = createDb(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
const deps = (() => {
  try {
    return activityDependenciesFromConfig(config, db);
  } catch (error) {
    // Production without SMTP_URL or REVIEWERS_EMAIL (notifications), or without SECRET_KEYS.
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
})();
const connection = await connectWorker(config);
const worker = await createWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  deps,
  commandVerification: { keys: commandVerifyKeys },
  tracing,
  maxCachedWorkflows: memoryPlan.maxCachedWorkflows,
  // Bundled in a child process unless given: the bundler's memory stays out of the worker.
  workflowBundle: config.WORKFLOW_BUNDLE_PATH
    ? { codePath: config.WORKFLOW_BUNDLE_PATH }
    : await bundleWorkflowsInChild(),
});

// Runtime.install registers SIGINT/SIGTERM handlers that shut the worker down gracefully:
// in-flight activities finish (or are retried elsewhere) and run() resolves.
exitWithParent(() => worker.shutdown());
log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: config.TEMPORAL_ADDRESS }, 'worker polling');
await worker.run();
await connection.close();
await db.destroy();
await tracing?.shutdown().catch(() => undefined);
log.info('worker stopped');
