import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities/index.js';
import { createCommandAuthActivities, type CommandVerification } from './command-verifier.js';
import { WORKFLOWS_PATH } from './workflow-bundle.js';

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
  });
}
