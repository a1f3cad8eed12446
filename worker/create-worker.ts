import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities/index.js';
import { createCommandAuthActivities, type CommandVerification } from './command-verifier.js';
import { droppingWorkflowSinks, type Tracing } from '../platform/tracing.js';
import { TRACING_INTERCEPTORS_PATH, WORKFLOWS_PATH } from './workflow-bundle.js';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDependencies;
  /** How command tokens are judged (the `verifyCommand` local activity): the verify keys, or off (tests only). */
  commandVerification: CommandVerification;
  /** A pre-built bundle (tests bundle once per run); without it the worker bundles workflows/ itself. */
  workflowBundle?: WorkflowBundleOption;
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
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    interceptors: {
      // Bundled with the workflows; a pre-built bundle has them already (worker/workflow-bundle.ts).
      ...(options.workflowBundle ? {} : { workflowModules: [TRACING_INTERCEPTORS_PATH] }),
      activity: options.tracing?.activityInterceptors ?? [],
    },
    sinks: options.tracing?.workflowSinks ?? droppingWorkflowSinks,
  });
}
