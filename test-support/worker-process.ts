import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import type { AidboxConnection } from '../aidbox/client.js';
import type { Environment } from '../workflows/backend-service/service-state.js';
import { workerProcessEnv } from './backend.js';
import { workerV8FlagsFromEnv } from '../worker/memory-plan.js';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface WorkerProcessOptions {
  taskQueue: string;
  temporalAddress?: string;
  databaseUrl?: string;
  /** The AES key the test's own secret store uses, so both read the same ciphertexts. */
  secretKey: Buffer;
  environments: Record<Environment, AidboxConnection>;
  /** More of the worker's configuration variables (health timing, metrics ports, the OTLP endpoint). */
  env?: Record<string, string>;
}

/**
 * The real worker process (worker/main.ts), configured through its environment the way an
 * operator would. Resolves once it polls, so a test can SIGKILL it mid-activity.
 */
export function spawnWorkerProcess(options: WorkerProcessOptions): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...workerProcessEnv(
      { environments: options.environments, secretKey: options.secretKey, secretKeyId: 'test' },
      {
        databaseUrl: options.databaseUrl ?? inject('databaseUrl'),
        temporalAddress: options.temporalAddress ?? inject('temporalAddress'),
        taskQueue: options.taskQueue,
        bundlePath: inject('workflowBundlePath'),
      },
      inject('commandVerifyKeys'),
    ),
    LOG_LEVEL: 'info',
    // Each worker's metrics endpoint is off unless the test asks for one (several run at once).
    WORKER_METRICS_PORT: '0',
    // On a cluster run: its mTLS files and token file (nothing on the dev server).
    ...(JSON.parse(inject('temporalClientEnv')) as Record<string, string>),
    ...options.env,
  };
  // As npm start launches it: with the heap limits of its memory budget (worker/memory-plan.ts).
  const child = spawn(process.execPath, [...workerV8FlagsFromEnv(env), '--import', 'tsx', 'worker/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker polling')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${output}`)));
  });
}
