import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Workflow interceptors for tracing; they pass through unless a message carries trace context. */
export const TRACING_INTERCEPTORS_PATH = fileURLToPath(
  new URL('../workflows/tracing-interceptors.ts', import.meta.url),
);

/** Bundles the workflow code once (webpack + swc take seconds); workers and replayers share the result. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [TRACING_INTERCEPTORS_PATH],
    logger: quietBundlerLogger,
  });
}

const noop = () => undefined;
const quietBundlerLogger = {
  log: noop,
  trace: noop,
  debug: noop,
  info: noop,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
