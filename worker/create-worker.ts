import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities/index.js';
import { createCommandAuthActivities, type CommandVerification } from './command-verifier.js';
import { droppingWorkflowSinks, type Tracing } from '../platform/tracing.js';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDependencies;
  /** How command tokens are judged (the `verifyCommand` local activity): the verify keys, or off (tests only). */
  commandVerification: CommandVerification;
  /**
   * The workflow bundle (worker/workflow-bundle.ts, with the tracing interceptors in it): a file
   * (WORKFLOW_BUNDLE_PATH; the tests bundle once per run) or code bundled in a child process.
   */
  workflowBundle: WorkflowBundleOption;
  maxCachedWorkflows?: number;
  /** OpenTelemetry (platform/tracing.ts); null or absent: no activity spans, workflow spans dropped. */
  tracing?: Tracing | null;
}

export function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: {
      ...createActivities(options.deps),
      ...createCommandAuthActivities(options.commandVerification),
    },
    workflowBundle: options.workflowBundle,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    interceptors: {
      activity: options.tracing?.activityInterceptors ?? [],
    },
    sinks: options.tracing?.workflowSinks ?? droppingWorkflowSinks,
  });
}
