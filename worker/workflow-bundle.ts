import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Workflow interceptors for tracing; they pass through unless a message carries trace context. */
const TRACING_INTERCEPTORS_PATH = fileURLToPath(
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

const BUNDLER_ENTRY = fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url));

/**
 * The bundle, made by a short-lived child process. Webpack and swc leave their memory behind in
 * the process that ran them: with the worker's heap flags, a process that bundled sat at about
 * 250 MiB resident after garbage collection against 130 MiB for one that did not (the heap itself
 * was back to 50 MiB; the rest is native memory that is not returned). A worker lives for months:
 * it should not carry that. The child's stderr is passed on, and kept for the error when it fails.
 */
export function bundleWorkflowsInChild(entry = BUNDLER_ENTRY): Promise<{ code: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      // tsx resolves from the project, wherever the worker was started from.
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        // The bundler's warnings, as it printed them when it ran in the worker's process.
        if (err.trim()) process.stderr.write(err);
        resolve({ code: Buffer.concat(out).toString('utf8') });
      } else
        reject(
          new Error(
            `bundling the workflows failed (${signal ?? `exit ${code}`}): ${err.trim() || 'no output'}`,
          ),
        );
    });
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
